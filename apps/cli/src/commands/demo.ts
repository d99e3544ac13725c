import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError, MINUTE_MS, TIERS } from '@rekor-budget/core';
import { createRekorProducer } from '@rekor-budget/producer';
import type { SubmissionJobData } from '@rekor-budget/queue';
import { verifyBundle } from '@rekor-budget/rekor';
import { configFor, type GlobalOptions } from '../context';
import { startLocalSystem, type LocalSystem } from '../demo/system';
import { DEMO_TENANTS, runWorkload } from '../demo/workload';
import { EXIT, type CliIo } from '../io';
import { waitUntil, whole } from '../util';
import { createCliLogger } from '../logger';
import { createProgress } from '../progress';
import { RETRY_MESSAGE, stamp } from './start';

interface DemoFlags {
  once?: boolean;
  workDir: string;
  rekorPort: number;
  prefix?: string;
  json?: boolean;
}

const STEP_MS = 10 * MINUTE_MS;

interface TenantRow {
  tenant: string;
  submitted: number;
  refused: number;
  created: number;
  duplicates: number;
  /** Jobs the budget refused once, parked, then released by the scheduler. */
  parkedForBudget: number;
  offlineThenDrained: number;
  verified: number;
  lost: number;
}

export function registerDemo(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('demo')
    .description(
      'run the demo workload to completion (with --once) and check every attestation: logged, receipt stored, bundle verified offline',
    )
    .option(
      '--once',
      'run the workload to completion, print a summary per tenant, exit 1 if anything is lost',
    )
    .option('--work-dir <dir>', 'where the development key and the rekor-local log live', '.rekor-budget')
    .option('--rekor-port <n>', 'port of rekor-local (0 picks a free one)', whole('--rekor-port', 65535), 0)
    .option(
      '--prefix <prefix>',
      "the demo runs in <prefix>-demo (env REDIS_PREFIX; default: attestor.yaml's, else this checkout's own)",
    )
    .option('--json', 'print the summary as JSON')
    .action(async (flags: DemoFlags, cmd: Command) => {
      if (!flags.once) {
        throw new InputError(
          'INVALID_INPUT',
          '--once',
          'demo runs the workload to completion and needs --once; for a system that keeps running use `rekor-budget start`',
        );
      }
      const loaded = configFor(cmd.optsWithGlobals<GlobalOptions>(), io);
      const say = (line: string) =>
        flags.json ? io.err(`[${stamp()}] ${line}`) : io.out(`[${stamp()}] ${line}`);
      let offset = 0;
      const clock = () => Date.now() + offset;
      const system = await startLocalSystem({
        config: loaded.config,
        source: loaded.source,
        io,
        say,
        logger: createCliLogger(io, {
          pretty: true,
          stream: flags.json ? 'err' : 'out',
          drop: (msg) => msg === RETRY_MESSAGE,
        }),
        workDir: flags.workDir,
        rekorPort: flags.rekorPort,
        ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }),
        metricsPort: null,
        fresh: true,
        clock,
        probeIntervalMs: 1_000,
      });
      if (!system) return setExit(EXIT.FAILURE);
      say(
        'time compression: once only jobs parked for budget are left, the budget clock jumps 10 minutes ahead; all else runs in real time',
      );
      const { runtime } = system;
      const progress = createProgress(runtime);
      const queues = TIERS.map((t) => runtime.queues.get(t));
      const idle = async () => {
        const c = await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'active', 'prioritized')));
        return c.every((x) => (x.waiting ?? 0) + (x.active ?? 0) + (x.prioritized ?? 0) === 0);
      };
      const offlineRows = () => runtime.offline.size();
      try {
        const producer = createRekorProducer({
          config: system.config,
          db: runtime.db,
          metrics: runtime.metrics,
          budget: runtime.budget,
          logger: runtime.logger,
        });
        let result;
        try {
          result = await runWorkload(producer, {
            log: say,
            pause: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 2_000))),
            stopped: () => false,
            outageStart: async () => {
              if (!system.rekorLocal) say('demo: (the outage is simulated only with rekor-local; skipped)');
              system.rekorLocal?.faults.set({ mode: 'offline' });
            },
            // the outage lasts until every submission made during it waits in the offline queue
            outageWait: (n) =>
              waitUntil(
                async () => (await offlineRows()) >= n,
                120_000,
                'the submissions of the outage to reach the offline queue',
              ),
            outageEnd: async () => system.rekorLocal?.faults.clear(),
          });
        } finally {
          await producer.close();
        }

        for (let step = 0; ; step++) {
          await waitUntil(
            async () => (await idle()) && (await offlineRows()) === 0,
            120_000,
            'the queues to settle',
          );
          say(await progress.line());
          const depth = await runtime.parking.depth();
          const parked = depth.graph + depth.edge;
          if (parked === 0) break;
          if (step >= 30) throw new Error(`${parked} jobs still parked after ${step} simulated steps`);
          offset += STEP_MS;
          say(
            `simulated time: +${(offset / MINUTE_MS).toFixed(0)} min; the scheduler releases the ${parked} parked jobs as their units free`,
          );
          // the scheduler serves every lane that came due (releasing what the budget frees)
          await waitUntil(
            async () => {
              for (const t of TIERS) {
                const due = await runtime.lanes.nextDue(t);
                if (due !== undefined && due <= clock()) return false;
              }
              return true;
            },
            30_000,
            'the scheduler to serve the lanes that came due',
          );
        }

        const rows = await summarize(
          system,
          system.config.signing.keyPath!,
          result.accepted,
          result.byTenant,
        );
        const lost = rows.reduce((a, r) => a + r.lost, 0);
        const unverified = rows.reduce((a, r) => a + (r.created - r.verified), 0);
        if (flags.json) io.out(JSON.stringify({ tenants: rows, lost, unverified }, null, 2));
        else io.out(renderTable(rows, lost, unverified));
        setExit(lost === 0 && unverified === 0 ? EXIT.OK : EXIT.FAILURE);
      } finally {
        await system.close();
      }

      async function summarize(
        system: LocalSystem,
        keyPath: string,
        accepted: Map<string, string>,
        byTenant: Map<string, { submitted: number; duplicates: number; refused: number }>,
      ): Promise<TenantRow[]> {
        const publicKeyPem = createPublicKey(readFileSync(keyPath, 'utf8'))
          .export({ type: 'spki', format: 'pem' })
          .toString();
        const trustedRoot = await (await fetch(`${system.config.serverUrl}/trusted_root.json`)).json();
        const receipts = (await system.runtime.receipts.list({ limit: null })).filter((r) =>
          accepted.has(r.contentDigest),
        );
        const jobs = (await Promise.all(queues.map((q) => q.getCompleted(0, 100_000)))).flat();
        const logged = jobs.filter(
          (j) =>
            accepted.has((j.data as SubmissionJobData).contentDigest) &&
            ['created', 'duplicate'].includes((j.returnvalue as { status?: string } | null)?.status ?? ''),
        );
        return DEMO_TENANTS.map(({ name, id }) => {
          const mine = receipts.filter((r) => r.tenantId === id);
          const myJobs = logged.filter((j) => (j.data as SubmissionJobData).input.tenantId === id);
          const acceptedMine = [...accepted].filter(([, tenant]) => tenant === id).map(([d]) => d);
          const counts = byTenant.get(id) ?? { submitted: 0, duplicates: 0, refused: 0 };
          return {
            tenant: `${name} (${id.slice(0, 8)})`,
            submitted: counts.submitted,
            refused: counts.refused,
            created: mine.length,
            duplicates: counts.duplicates,
            parkedForBudget: myJobs.filter((j) => ((j.data as SubmissionJobData).wakes ?? 0) > 0).length,
            // drained jobs carry the offline row's id (a UUID), not the content-derived id
            offlineThenDrained: myJobs.filter((j) => !/^(graph|edge)-/.test(j.id ?? '')).length,
            verified: mine.filter(
              (r) => verifyBundle({ bundle: r.bundle, trustedRoot, publicKeyPem }).verified,
            ).length,
            lost: acceptedMine.filter((d) => !mine.some((r) => r.contentDigest === d)).length,
          };
        });
      }
    });
}

function renderTable(rows: TenantRow[], lost: number, unverified: number): string {
  const head = [
    'tenant',
    'submitted',
    'refused',
    'created',
    'duplicates',
    'parked for budget',
    'offline then drained',
    'verified offline',
  ];
  const body = rows.map((r) => [
    r.tenant,
    String(r.submitted),
    String(r.refused),
    String(r.created),
    String(r.duplicates),
    String(r.parkedForBudget),
    String(r.offlineThenDrained),
    `${r.verified}/${r.created}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const verdict =
    lost === 0 && unverified === 0
      ? 'every accepted attestation is in the log once, with a receipt whose bundle verifies offline'
      : `${lost} attestation(s) lost, ${unverified} bundle(s) failed offline verification`;
  return ['', line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), '', verdict].join('\n');
}

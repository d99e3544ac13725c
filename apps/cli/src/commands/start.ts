import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { errorFields, TIERS } from '@rekor-budget/core';
import { startDashboard, type RunningDashboard } from '@rekor-budget/dashboard';
import { createRekorProducer } from '@rekor-budget/producer';
import type { Runtime } from '@rekor-budget/runtime';
import { configFor, type GlobalOptions } from '../context';
import { startLocalSystem } from '../demo/system';
import { runWorkload } from '../demo/workload';
import { EXIT, type CliIo } from '../io';
import { createCliLogger } from '../logger';
import { whole } from '../util';

interface StartFlags {
  demo: boolean;
  workDir: string;
  rekorPort: number;
}

export const stamp = () => new Date().toISOString().slice(11, 19);

/** One line per tier (queue states), the offline queue and the receipts. */
export async function progressLine(runtime: Runtime): Promise<string> {
  const [counts, offline, receipts] = await Promise.all([
    Promise.all(
      TIERS.map((t) =>
        runtime.queues.get(t).getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'),
      ),
    ),
    runtime.offline.size(),
    runtime.receipts.count(),
  ]);
  const tiers = TIERS.map((t, i) => {
    const c = counts[i]!;
    return `${t}: ${c.waiting ?? 0} waiting, ${c.active ?? 0} active, ${c.delayed ?? 0} delayed by budget, ${c.completed ?? 0} finished, ${c.failed ?? 0} failed`;
  });
  return `progress  ${tiers.join(' | ')} | offline queue ${offline} | receipts ${receipts}`;
}

export function registerStart(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('start')
    .description(
      'run the whole system here: migrate, rekor-local (unless REKOR_URL/serverUrl points elsewhere), workers, dashboard, and a demo workload',
    )
    .option('--no-demo', 'start the system without feeding the demo workload')
    .option('--work-dir <dir>', 'where the development key and the rekor-local log live', '.rekor-budget')
    .option('--rekor-port <n>', 'port of rekor-local', whole('--rekor-port', 65535), 3030)
    .action(async (flags: StartFlags, cmd: Command) => {
      const loaded = configFor(cmd.optsWithGlobals<GlobalOptions>(), io);
      const say = (line: string) => io.out(`[${stamp()}] ${line}`);
      const logger = createCliLogger(io, { pretty: true });
      say(`configuration: ${loaded.source}`);
      const system = await startLocalSystem({
        config: loaded.config,
        source: loaded.source,
        io,
        say,
        logger,
        workDir: flags.workDir,
        rekorPort: flags.rekorPort,
      });
      if (!system) return setExit(EXIT.FAILURE);

      let stopped = false;
      let wake: (() => void) | undefined;
      const signal = new Promise<string>((resolve) => {
        const on = (s: string) => {
          stopped = true;
          wake?.();
          process.off('SIGINT', on);
          process.off('SIGTERM', on);
          resolve(s);
        };
        process.on('SIGINT', on);
        process.on('SIGTERM', on);
      });
      const pause = (ms: number) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(resolve, ms);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });

      const { config, runtime } = system;
      let dashboard: RunningDashboard | undefined;
      let progress: NodeJS.Timeout | undefined;
      try {
        // Without configured credentials, a fresh password for this run; the
        // dashboard listens on 127.0.0.1 only.
        const credentials =
          config.dashboard.user && config.dashboard.password
            ? { user: config.dashboard.user, password: config.dashboard.password }
            : { user: 'admin', password: randomBytes(9).toString('base64url') };
        dashboard = await startDashboard({ runtime, host: '127.0.0.1', credentials });
        say(
          `dashboard ${dashboard.url}/budgets and ${dashboard.url}/queues  (user ${credentials.user}, password ${credentials.password})`,
        );
        say(
          `ready     metrics ${system.workers.metricsUrl ?? '(off)'}/metrics; \`npx rekor-budget status\` in another terminal shows budgets`,
        );
        progress = setInterval(() => {
          progressLine(runtime).then(say, (e: unknown) =>
            logger.warn(errorFields(e), 'progress line skipped: a service did not answer'),
          );
        }, 3_000);

        if (flags.demo) {
          const producer = createRekorProducer({
            config,
            db: runtime.db,
            metrics: runtime.metrics,
            budget: runtime.budget,
            logger,
          });
          try {
            const r = await runWorkload(producer, {
              log: say,
              pause,
              stopped: () => stopped,
              outageStart: async () => {
                if (system.rekorLocal) system.rekorLocal.faults.set({ mode: 'offline' });
                else say('demo: (the outage is simulated only with rekor-local; skipped)');
              },
              outageWait: () => pause(25_000),
              outageEnd: async () => system.rekorLocal?.faults.clear(),
            });
            say(
              `demo: submitted ${r.submitted}: ${r.queued} queued, ${r.overflowed} to the offline queue, ${r.duplicates} duplicates, ${r.refused} refused`,
            );
          } finally {
            await producer.close();
          }
          if (!stopped) {
            say(
              "demo workload sent; the system keeps running (acme's delayed scans go out as its budget frees). Ctrl-C stops.",
            );
          }
        }
        const s = await signal;
        say(`${s}: stopping (jobs in flight finish first)`);
      } finally {
        clearInterval(progress);
        await dashboard?.close();
        await system.close();
      }
      say('stopped');
      setExit(EXIT.OK);
    });
}

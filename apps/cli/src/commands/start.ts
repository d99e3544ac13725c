import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { Queue } from 'bullmq';
import { sql } from 'kysely';
import { createRedisKeys, TIERS } from '@rekor-budget/core';
import { startDashboard, type RunningDashboard } from '@rekor-budget/dashboard';
import { createRekorProducer } from '@rekor-budget/producer';
import { configFor, type GlobalOptions } from '../context';
import { startLocalSystem, type LocalSystem } from '../demo/system';
import { runWorkload } from '../demo/workload';
import { EXIT, type CliIo } from '../io';
import { whole } from '../util';

interface StartFlags {
  demo: boolean;
  workDir: string;
  rekorPort: number;
}

export const stamp = () => new Date().toISOString().slice(11, 19);

/** One line per tier (queue states), the offline queue and the receipts. */
export async function progressLine(system: LocalSystem, queues: Queue[]): Promise<string> {
  const counts = await Promise.all(
    queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')),
  );
  const db = system.services.db;
  const [offline, receipts] = await Promise.all([
    db
      .selectFrom('attestor.rekor_offline_queue')
      .select(sql<number>`count(*)::int`.as('n'))
      .executeTakeFirst(),
    db
      .selectFrom('attestor.rekor_entries')
      .select(sql<number>`count(*)::int`.as('n'))
      .executeTakeFirst(),
  ]);
  const tiers = TIERS.map((t, i) => {
    const c = counts[i]!;
    return `${t}: ${c.waiting ?? 0} waiting, ${c.active ?? 0} active, ${c.delayed ?? 0} delayed by budget, ${c.completed ?? 0} finished, ${c.failed ?? 0} failed`;
  });
  return `progress  ${tiers.join(' | ')} | offline queue ${offline?.n ?? 0} | receipts ${receipts?.n ?? 0}`;
}

export function tierQueues(system: LocalSystem): Queue[] {
  const keys = createRedisKeys(system.config.redis.keyPrefix);
  return TIERS.map(
    (t) => new Queue(keys.queueName(t), { connection: system.services.redis, prefix: keys.queuePrefix }),
  );
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
      say(`configuration: ${loaded.source}`);
      const system = await startLocalSystem({
        config: loaded.config,
        source: loaded.source,
        io,
        say,
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

      let config = system.config;
      let dashboard: RunningDashboard | undefined;
      let progress: NodeJS.Timeout | undefined;
      const queues = tierQueues(system);
      try {
        if (!config.dashboard.user || !config.dashboard.password) {
          // A fresh password for this run; the dashboard listens on 127.0.0.1 only.
          config = {
            ...config,
            dashboard: { ...config.dashboard, user: 'admin', password: randomBytes(9).toString('base64url') },
          };
        }
        dashboard = await startDashboard({
          config,
          host: '127.0.0.1',
          redis: system.services.redis,
          db: system.services.db,
        });
        say(
          `dashboard ${dashboard.url}/budgets and ${dashboard.url}/queues  (user ${config.dashboard.user}, password ${config.dashboard.password})`,
        );
        say(
          `ready     metrics ${system.workers.metricsUrl ?? '(off)'}/metrics; \`npx rekor-budget status\` in another terminal shows budgets`,
        );
        progress = setInterval(() => void progressLine(system, queues).then(say, () => undefined), 3_000);

        if (flags.demo) {
          const producer = createRekorProducer({
            config,
            redis: system.services.redis,
            db: system.services.db,
            metrics: system.workers.metrics,
            budget: system.workers.budget,
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
        await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
        await dashboard?.close();
        await system.close();
      }
      say('stopped');
      setExit(EXIT.OK);
    });
}

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Queue } from 'bullmq';
import { sql } from 'kysely';
import { createRedisKeys, TIERS, type RekorConfig } from '@rekor-budget/core';
import { createRekorProducer } from '@rekor-budget/producer';
import { writeKeyPair } from '@rekor-budget/rekor';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { runWorkers, type RunningWorkers } from '@rekor-budget/worker';
import { startDashboard, type RunningDashboard } from '@rekor-budget/dashboard';
import { randomBytes } from 'node:crypto';
import { configFor, redactUrl, type GlobalOptions } from '../context';
import { runWorkload } from '../demo/workload';
import { EXIT, type CliIo } from '../io';
import { probePostgres, probeRedis } from '../probe';
import { openServices, type Services } from '../services';
import { runMigrations } from './migrate';

const PUBLIC_REKOR = 'https://rekor.sigstore.dev';
const HOW_TO_START = {
  redis:
    'start it with `redis-server --daemonize yes` or `docker compose up -d redis`, or point REDIS_URL at yours',
  postgres:
    'start it with `pg_ctlcluster <version> main start` or `docker compose up -d postgres`, or point DATABASE_URL at yours',
};

interface StartFlags {
  demo: boolean;
  workDir: string;
  rekorPort: number;
}

export function registerStart(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('start')
    .description(
      'run the whole system here: migrate, rekor-local (unless REKOR_URL/serverUrl points elsewhere), workers, and a demo workload',
    )
    .option('--no-demo', 'start the system without feeding the demo workload')
    .option('--work-dir <dir>', 'where the development key and the rekor-local log live', '.rekor-budget')
    .option('--rekor-port <n>', 'port of the local Rekor', (v) => Number(v), 3030)
    .action(async (flags: StartFlags, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const loaded = configFor(globals, io);
      const say = (line: string) => io.out(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
      say(`configuration: ${loaded.source}`);

      const [redis, postgres] = await Promise.all([
        probeRedis(loaded.config.redis.url),
        probePostgres(loaded.config.database.url),
      ]);
      say(
        `redis     ${redactUrl(loaded.config.redis.url)}: ${redis.ok ? `up (${redis.detail})` : `DOWN (${redis.detail})`}`,
      );
      say(
        `postgres  ${redactUrl(loaded.config.database.url)}: ${postgres.ok ? `up (${postgres.detail})` : `DOWN (${postgres.detail})`}`,
      );
      if (!redis.ok) io.err(`Redis does not answer: ${HOW_TO_START.redis}`);
      if (!postgres.ok) io.err(`Postgres does not answer: ${HOW_TO_START.postgres}`);
      if (!redis.ok || !postgres.ok) return setExit(EXIT.FAILURE);

      const applied = await runMigrations(loaded.config.database.url);
      say(`schema    attestor: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);

      let config: RekorConfig = loaded.config;
      if (loaded.source === 'defaults') {
        // No configuration file: demo settings that let a short run show every path.
        config = {
          ...config,
          tier: 'with-edges',
          retry: { ...config.retry, initialDelayMs: 1_000, maxDelayMs: 4_000 },
          offline: { ...config.offline, probeIntervalMs: 5_000 },
        };
        say(
          'demo settings (no attestor.yaml): tier with-edges, retries after 1 s and 2 s, Rekor probed every 5 s',
        );
      }

      mkdirSync(flags.workDir, { recursive: true });
      if (!config.signing.keyPath) {
        const keyPath = join(flags.workDir, 'dev-signing-key.pem');
        if (!existsSync(keyPath)) await writeKeyPair(keyPath);
        io.err(
          `WARNING: no signing key configured; using the development key ${keyPath} (public key ${keyPath}.pub). ` +
            'Set SIGNING_KEY or signing.keyPath for real use.',
        );
        config = { ...config, signing: { ...config.signing, keyPath } };
      }

      let rekorLocal: RekorLocalServer | undefined;
      const external = config.serverUrl !== PUBLIC_REKOR || io.env.REKOR_URL;
      if (!external) {
        rekorLocal = await startRekorLocal({
          port: flags.rekorPort,
          dataDir: join(flags.workDir, 'rekor-local'),
          faults: true,
        });
        config = { ...config, serverUrl: rekorLocal.url };
        say(
          `rekor     rekor-local at ${rekorLocal.url} (log ${join(flags.workDir, 'rekor-local')}, trusted root ${rekorLocal.url}/trusted_root.json)`,
        );
      } else {
        say(`rekor     ${config.serverUrl} (configured)`);
      }

      let workers: RunningWorkers | undefined;
      let dashboard: RunningDashboard | undefined;
      let services: Services | undefined;
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

      let progress: NodeJS.Timeout | undefined;
      try {
        workers = await runWorkers({
          config,
          roles: ['graph', 'edge', 'drain'],
          log: (line) => say(line),
        });
        services = openServices(config);
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
          redis: services.redis,
          db: services.db,
        });
        say(
          `dashboard ${dashboard.url}/budgets and ${dashboard.url}/queues  (user ${config.dashboard.user}, password ${config.dashboard.password})`,
        );
        const keys = createRedisKeys(config.redis.keyPrefix);
        const queues = TIERS.map(
          (t) => new Queue(keys.queueName(t), { connection: services!.redis, prefix: keys.queuePrefix }),
        );
        const report = async () => {
          const counts = await Promise.all(
            queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')),
          );
          const [offline, receipts] = await Promise.all([
            services!.db
              .selectFrom('attestor.rekor_offline_queue')
              .select(sql<number>`count(*)::int`.as('n'))
              .executeTakeFirst(),
            services!.db
              .selectFrom('attestor.rekor_entries')
              .select(sql<number>`count(*)::int`.as('n'))
              .executeTakeFirst(),
          ]);
          const tiers = TIERS.map(
            (t, i) =>
              `${t}: ${counts[i]!.waiting ?? 0} waiting, ${counts[i]!.active ?? 0} active, ${counts[i]!.delayed ?? 0} delayed by budget, ${counts[i]!.completed ?? 0} finished, ${counts[i]!.failed ?? 0} failed`,
          );
          say(
            `progress  ${tiers.join(' | ')} | offline queue ${offline?.n ?? 0} | receipts ${receipts?.n ?? 0}`,
          );
        };
        say(
          `ready     metrics ${workers.metricsUrl ?? '(off)'}/metrics; \`npx rekor-budget status\` in another terminal shows budgets`,
        );
        progress = setInterval(() => void report().catch(() => undefined), 3_000);

        if (flags.demo) {
          const producer = createRekorProducer({
            config,
            redis: services.redis,
            db: services.db,
            metrics: workers.metrics,
          });
          try {
            const counts = await runWorkload(producer, {
              log: say,
              pause,
              stopped: () => stopped,
              outageStart: async () => {
                if (rekorLocal) rekorLocal.faults.set({ mode: 'offline' });
                else say('demo: (outage simulated only with rekor-local; skipped)');
              },
              outageEnd: async () => {
                rekorLocal?.faults.clear();
              },
            });
            say(
              `demo: submitted ${counts.submitted}: ${counts.queued} queued, ${counts.overflowed} to the offline queue, ${counts.duplicates} duplicates, ${counts.refused} refused`,
            );
          } finally {
            await producer.close();
          }
          if (!stopped)
            say(
              "demo workload sent; the system keeps running (acme's delayed scans go out as its budget frees). Ctrl-C stops.",
            );
        }
        const s = await signal;
        say(`${s}: stopping (jobs in flight finish first)`);
        clearInterval(progress);
        await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
      } finally {
        clearInterval(progress);
        await dashboard?.close();
        await workers?.close();
        await services?.close();
        await rekorLocal?.close();
      }
      say('stopped');
      setExit(EXIT.OK);
    });
}

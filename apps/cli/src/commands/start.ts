import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { errorFields, redisEnv } from '@rekor-budget/core';
import { startDashboard, type RunningDashboard } from '@rekor-budget/dashboard';
import { createRekorProducer } from '@rekor-budget/producer';
import { resolve } from 'node:path';
import { configFor, type GlobalOptions } from '../context';
import { envPort, startLocalSystem } from '../demo/system';
import { runWorkload, type WorkloadCounts } from '../demo/workload';
import { listenOn } from '../namespace';
import { createProgress } from '../progress';
import { RUN_ENV_FILE, writeRunEnv } from '../run-env';
import { EXIT, type CliIo } from '../io';
import { createCliLogger } from '../logger';
import { whole } from '../util';

interface StartFlags {
  demo: boolean;
  workDir: string;
  rekorPort?: number;
  dashboardPort?: number;
  metricsPort?: number;
  prefix?: string;
}

export const stamp = () => new Date().toISOString().slice(11, 19);

/** What the tier workers log for each failed attempt that will be retried. */
export const RETRY_MESSAGE = 'job attempt failed; it will be retried';

/** `{ [key]: value }`, or nothing when the value is undefined. */
function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}

function keyPrefix(value: string): string {
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(value))
    throw new InvalidArgumentError(
      'use 1-64 letters, digits and - _ . : (no braces), e.g. "rekor-budget-mine"',
    );
  return value;
}

/** The demo's submissions, told apart from what the workers did with them later. */
export function demoSummary(r: WorkloadCounts): string {
  return `demo: submitted ${r.submitted}: ${r.queued} accepted into the queues, ${r.overflowed} stored in the offline queue at once (none while Redis answers), ${r.duplicates} duplicates, ${r.refused} refused; the outage's submissions reach the offline queue from the workers`;
}

export function registerStart(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('start')
    .description(
      'run the whole system here: migrate, rekor-local (unless REKOR_URL/serverUrl points elsewhere), workers, dashboard, and a demo workload',
    )
    .option('--no-demo', 'start the system without feeding the demo workload')
    .option('--work-dir <dir>', 'where the development key and the rekor-local log live', '.rekor-budget')
    .option(
      '--rekor-port <n>',
      'port of rekor-local (env REKOR_LOCAL_PORT; default 3030, or a free one when 3030 is taken)',
      whole('--rekor-port', 65535),
    )
    .option(
      '--dashboard-port <n>',
      'port of the dashboard (env DASHBOARD_PORT; default dashboard.port, 3000, or a free one when taken)',
      whole('--dashboard-port', 65535),
    )
    .option(
      '--metrics-port <n>',
      'port of /metrics (env METRICS_PORT; default metrics.port, 9464, or a free one when taken)',
      whole('--metrics-port', 65535),
    )
    .option(
      '--prefix <prefix>',
      "Redis key prefix (env REDIS_PREFIX; default without attestor.yaml: this checkout's own)",
      keyPrefix,
    )
    .action(async (flags: StartFlags, cmd: Command) => {
      const loaded = configFor(cmd.optsWithGlobals<GlobalOptions>(), io);
      const say = (line: string) => io.out(`[${stamp()}] ${line}`);
      // one line per failed attempt would drown the screen during an outage: the progress line counts them
      const logger = createCliLogger(io, { pretty: true, drop: (msg) => msg === RETRY_MESSAGE });
      say(`configuration: ${loaded.source}`);
      const system = await startLocalSystem({
        config: loaded.config,
        source: loaded.source,
        io,
        say,
        logger,
        workDir: flags.workDir,
        ...optional('rekorPort', flags.rekorPort ?? envPort(io.env, 'REKOR_LOCAL_PORT')),
        ...optional('metricsPort', flags.metricsPort),
        ...optional('prefix', flags.prefix),
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
        dashboard = await listenOn(
          'dashboard',
          config.dashboard.port,
          flags.dashboardPort ?? envPort(io.env, 'DASHBOARD_PORT'),
          say,
          (port) => startDashboard({ runtime, host: '127.0.0.1', port, credentials }),
        );
        say(
          `dashboard ${dashboard.url}/budgets and ${dashboard.url}/queues  (user ${credentials.user}, password ${credentials.password})`,
        );
        writeRunEnv(resolve(io.cwd, RUN_ENV_FILE), {
          ...redisEnv(config.redis),
          REDIS_PREFIX: config.redis.keyPrefix,
          DATABASE_URL: config.database.url,
          REKOR_URL: config.serverUrl,
          SIGNING_KEY: config.signing.keyPath ? resolve(io.cwd, config.signing.keyPath) : undefined,
          DASHBOARD_URL: dashboard.url,
          DASHBOARD_USER: credentials.user,
          DASHBOARD_PASSWORD: credentials.password,
          METRICS_URL: system.workers.metricsUrl,
        });
        say(
          `ready     metrics ${system.workers.metricsUrl ?? '(off)'}/metrics; \`npx rekor-budget status\` in another terminal shows budgets (it reads ${RUN_ENV_FILE})`,
        );
        const tracker = createProgress(runtime);
        progress = setInterval(() => {
          tracker.next().then(
            (line) => line && say(line),
            (e: unknown) => logger.warn(errorFields(e), 'progress line skipped: a service did not answer'),
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
            say(demoSummary(r));
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

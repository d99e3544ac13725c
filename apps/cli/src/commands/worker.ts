import { InvalidArgumentError, type Command } from 'commander';
import { HOUR_MS, InputError } from '@rekor-budget/core';
import { runWorkers, WORKER_ROLES, type WorkerRole } from '@rekor-budget/worker';
import { configFor, type GlobalOptions } from '../context';
import { EXIT, type CliIo } from '../io';
import { createCliLogger } from '../logger';
import { untilSignal, whole } from '../util';
import { APP_NAME, serviceRuntime } from '../wiring';

interface WorkerFlags {
  role: (typeof WORKER_ROLES)[number];
  concurrency: number;
  metricsPort?: number;
  metricsHost?: string;
  metrics: boolean;
  lockDuration: number;
}

function role(value: string): WorkerFlags['role'] {
  if (!(WORKER_ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`use one of ${WORKER_ROLES.join(', ')}`);
  }
  return value as WorkerFlags['role'];
}

export function registerWorker(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('worker')
    .description(
      'submit queued attestations to Rekor under the budget (graph, edge), or drain the offline queue',
    )
    .requiredOption('--role <role>', `what to run: ${WORKER_ROLES.join(' | ')}`, role)
    .option('--concurrency <n>', 'jobs in flight per tier worker', whole('--concurrency', 1000, 1), 8)
    .option(
      '--metrics-port <n>',
      'port of /metrics, /healthz, /readyz (default: metrics.port)',
      whole('--metrics-port', 65535),
    )
    .option(
      '--metrics-host <address>',
      'interface of the metrics endpoint (default: metrics.host, 127.0.0.1); another needs metrics auth or a private network',
    )
    .option('--no-metrics', 'serve no metrics endpoint')
    .option(
      '--lock-duration <ms>',
      'how long a job stays locked to this worker without renewal; after a crash its jobs move on once it expires',
      whole('--lock-duration', HOUR_MS, 1000),
      30_000,
    )
    .action(async (flags: WorkerFlags, cmd: Command) => {
      if (!flags.metrics && (flags.metricsPort !== undefined || flags.metricsHost !== undefined)) {
        throw new InputError(
          'INVALID_INPUT',
          flags.metricsPort !== undefined ? '--metrics-port' : '--metrics-host',
          'sets the metrics endpoint, which --no-metrics turns off; drop one of them',
        );
      }
      const { config } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io, { runEnv: true });
      const roles: WorkerRole[] = flags.role === 'all' ? ['graph', 'edge', 'drain'] : [flags.role];
      const runtime = await serviceRuntime(config, createCliLogger(io), `${APP_NAME.worker}-${flags.role}`, {
        requireDurableRedis: config.redis.requireDurable,
      });
      let running;
      try {
        running = await runWorkers({
          runtime,
          roles,
          concurrency: flags.concurrency,
          lockDurationMs: flags.lockDuration,
          metricsPort: flags.metrics ? (flags.metricsPort ?? config.metrics.port) : null,
          ...(flags.metricsHost === undefined ? {} : { metricsHost: flags.metricsHost }),
        });
      } catch (e) {
        await runtime.close();
        throw e;
      }
      const signal = await untilSignal();
      io.out(`worker: ${signal}, finishing jobs in flight`);
      await running.close();
      await runtime.close();
      io.out('worker: stopped');
      setExit(EXIT.OK);
    });
}

import { errorFields, redactUrl, type Tier } from '@rekor-budget/core';
import { startMetricsServer, type MetricsServer } from '@rekor-budget/metrics';
import { loadSigner } from '@rekor-budget/rekor';
import type { Runtime } from '@rekor-budget/runtime';
import { Drainer, type DrainReport } from './drain';
import { RunError } from './error';
import { Scheduler } from './scheduler';
import { createTierWorker } from './tier-worker';

export type WorkerRole = Tier | 'drain';
export const WORKER_ROLES = ['graph', 'edge', 'drain', 'all'] as const;

export interface RunWorkersOptions {
  /** The process's runtime (connections, budget, queues, metrics); the caller closes it after `close()`. */
  runtime: Runtime;
  roles: WorkerRole[];
  /** Jobs in flight per tier worker. @defaultValue 8 */
  concurrency?: number;
  /** See `TierWorkerOptions.lockDurationMs`. @defaultValue 30 000 */
  lockDurationMs?: number;
  /** Port of /metrics, /healthz, /readyz; `null` for none. @defaultValue config.metrics.port */
  metricsPort?: number | null;
  /** Interface the metrics endpoint listens on. @defaultValue config.metrics.host (127.0.0.1) */
  metricsHost?: string;
}

export interface RunningWorkers {
  metricsUrl?: string;
  /** Drains once now (role drain only). */
  drainNow(): Promise<DrainReport | undefined>;
  /** Stops taking jobs and lets running jobs finish; the runtime stays open. */
  close(): Promise<void>;
}

/** Starts the workers of the given roles in this process. */
export async function runWorkers(options: RunWorkersOptions): Promise<RunningWorkers> {
  const { runtime, roles } = options;
  const { config, keys } = runtime;
  const logger = runtime.logger;
  const concurrency = options.concurrency ?? 8;
  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    for (const close of closers.splice(0)) {
      try {
        await close();
      } catch (e) {
        logger.warn(errorFields(e), 'a worker part did not close cleanly');
      }
    }
  };

  try {
    const tierRoles = roles.filter((r): r is Tier => r !== 'drain');
    if (tierRoles.length > 0) {
      const signer = await loadSigner({
        keyPath: requireKeyPath(config.signing.keyPath),
        ...(config.signing.keyHint ? { keyHint: config.signing.keyHint } : {}),
      });
      for (const tier of tierRoles) {
        const worker = createTierWorker({
          runtime,
          tier,
          signer,
          concurrency,
          ...(options.lockDurationMs ? { lockDurationMs: options.lockDurationMs } : {}),
        });
        closers.push(() => worker.close());
        // every tier worker process runs the release loop; one per tier leads (a Redis lease)
        const scheduler = new Scheduler({ runtime, tier });
        scheduler.start();
        closers.unshift(() => scheduler.stop());
        logger.info({ tier, concurrency }, `worker ${tier}: consuming ${keys.queueName(tier)}`);
      }
    }

    let drainer: Drainer | undefined;
    if (roles.includes('drain')) {
      drainer = new Drainer({ runtime });
      let tsaWasDown = false;
      drainer.start((r) => {
        if (r.moved.graph + r.moved.edge > 0) {
          logger.info(
            { component: 'drain', moved: r.moved },
            `drain: Rekor answers; moved ${r.moved.graph} graph and ${r.moved.edge} edge submissions back to the queues`,
          );
        }
        // said once per outage of the timestamp authority, not every pass
        const tsa = r.timestampAuthority;
        if (tsa && !tsa.reachable && !tsaWasDown) {
          logger.warn(
            { component: 'drain', tsaUrl: tsa.url, detail: tsa.detail },
            `drain: the timestamp authority at ${tsa.url} grants no timestamp (${tsa.detail}); submissions that wait for it stay in the offline queue until it does`,
          );
        }
        if (tsa) tsaWasDown = !tsa.reachable;
      });
      closers.unshift(() => drainer!.stop());
      logger.info(
        { component: 'drain' },
        `drain: probing ${redactUrl(runtime.client.logUrl)} every ${config.offline.probeIntervalMs} ms`,
      );
    }

    let metricsServer: MetricsServer | undefined;
    const port = options.metricsPort === undefined ? config.metrics.port : options.metricsPort;
    if (port !== null) {
      const { user, password, token } = config.metrics;
      const auth = {
        ...(user !== undefined && password !== undefined ? { user, password } : {}),
        ...(token !== undefined ? { token } : {}),
      };
      metricsServer = await startMetricsServer({
        registry: runtime.registry,
        port,
        host: options.metricsHost ?? config.metrics.host,
        readiness: () => runtime.readiness(),
        ...(Object.keys(auth).length > 0 ? { auth } : {}),
      });
      closers.push(() => metricsServer!.close());
      logger.info({ url: metricsServer.url }, `metrics: ${metricsServer.url}/metrics`);
    }

    let closed: Promise<void> | undefined;
    return {
      metricsUrl: metricsServer?.url,
      drainNow: async () => drainer?.drainOnce(),
      close: () => (closed ??= closeAll()),
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

function requireKeyPath(keyPath: string | undefined): string {
  if (!keyPath) {
    throw new RunError(
      'SIGNING_KEY_MISSING',
      'no signing key: set attestor.rekor.signing.keyPath or SIGNING_KEY to a PEM private key (create one with `rekor-budget keygen --out <file>`)',
    );
  }
  return keyPath;
}

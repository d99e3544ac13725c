import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createRedisKeys, TIERS, type RekorConfig, type Tier } from '@rekor-budget/core';
import { createDb } from '@rekor-budget/db';
import { createBudget, createQuotaMirror, syncRedisClock, type Budget } from '@rekor-budget/budget';
import { RekorMetrics, startMetricsServer, type MetricsServer } from '@rekor-budget/metrics';
import { OfflineQueue } from '@rekor-budget/producer';
import {
  clientOptionsFromConfig,
  createReceiptStore,
  createRekorClient,
  loadSigner,
} from '@rekor-budget/rekor';
import { Drainer, type DrainReport } from './drain';
import { RunError } from './error';
import { metricsSources } from './metrics-sources';
import { createTierWorker } from './tier-worker';

export type WorkerRole = Tier | 'drain';
export const WORKER_ROLES = ['graph', 'edge', 'drain', 'all'] as const;

export interface RunWorkersOptions {
  config: RekorConfig;
  roles: WorkerRole[];
  /** Jobs in flight per tier worker. @defaultValue 8 */
  concurrency?: number;
  /** See `TierWorkerOptions.lockDurationMs`. @defaultValue 30 000 */
  lockDurationMs?: number;
  /** Port of /metrics, /healthz, /readyz; `null` for none. @defaultValue config.metrics.port */
  metricsPort?: number | null;
  log?: (line: string) => void;
  /**
   * The budget and worker clock (epoch ms). @defaultValue the Redis server's
   * clock; a demo may pass a compressed one.
   */
  clock?: () => number;
}

export interface RunningWorkers {
  metricsUrl?: string;
  /** The process's metrics, for an in-process producer to record into. */
  metrics: RekorMetrics;
  /** The process's budget (on the workers' clock), for an in-process producer's estimates. */
  budget: Budget;
  /** Drains once now (role drain only). */
  drainNow(): Promise<DrainReport | undefined>;
  /** Stops taking jobs, lets running jobs finish, closes every connection. */
  close(): Promise<void>;
}

/** Starts the workers of the given roles in this process, from a loaded configuration. */
export async function runWorkers(options: RunWorkersOptions): Promise<RunningWorkers> {
  const { config, roles } = options;
  const log = options.log ?? (() => undefined);
  const keys = createRedisKeys(config.redis.keyPrefix);
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: null });
  redis.on('error', (e) => log(`redis: ${e.message}`));
  const db = createDb({
    url: config.database.url,
    applicationName: `rekor-budget-worker-${roles.join('+')}`,
  });
  const client = createRekorClient(clientOptionsFromConfig(config));
  const closers: (() => Promise<unknown>)[] = [];
  let clockTimer: NodeJS.Timeout | undefined;
  let metricsServer: MetricsServer | undefined;

  try {
    const redisClock = await syncRedisClock(redis);
    clockTimer = setInterval(() => void redisClock.sync().catch(() => undefined), 60_000);
    clockTimer.unref();
    const clock = { now: options.clock ?? redisClock.now };
    const budget = createBudget({ redis, keys, limits: config.budget, clock: clock.now });
    const offline = new OfflineQueue(db);
    const queues = Object.fromEntries(
      TIERS.map((t) => [t, new Queue(keys.queueName(t), { connection: redis, prefix: keys.queuePrefix })]),
    ) as Record<Tier, Queue>;
    closers.push(() => Promise.all(Object.values(queues).map((q) => q.close())));

    const registry = new Registry();
    const metrics = new RekorMetrics({
      registry,
      sources: metricsSources({ queues, offline, budget }),
    });

    const tierRoles = roles.filter((r): r is Tier => r !== 'drain');
    if (tierRoles.length > 0) {
      const signer = await loadSigner({
        keyPath: requireKeyPath(config),
        ...(config.signing.keyHint ? { keyHint: config.signing.keyHint } : {}),
      });
      for (const tier of tierRoles) {
        const worker = createTierWorker({
          tier,
          config,
          redis,
          db,
          budget,
          client,
          signer,
          receipts: createReceiptStore(db),
          quota: createQuotaMirror(db),
          metrics,
          clock: clock.now,
          concurrency: options.concurrency ?? 8,
          ...(options.lockDurationMs ? { lockDurationMs: options.lockDurationMs } : {}),
        });
        worker.on('failed', (job, err) =>
          log(
            `worker ${tier}: job ${job?.id ?? '?'} failed (attempt ${job?.attemptsMade ?? '?'}): ${err.message}`,
          ),
        );
        worker.on('error', (err) => log(`worker ${tier}: ${err.message}`));
        closers.push(() => worker.close());
        log(`worker ${tier}: consuming ${keys.queueName(tier)} (concurrency ${options.concurrency ?? 8})`);
      }
    }

    let drainer: Drainer | undefined;
    if (roles.includes('drain')) {
      drainer = new Drainer({
        config,
        redis,
        db,
        probe: async () => {
          await client.logInfo();
          return true;
        },
      });
      drainer.start(
        (r) => {
          const n = r.moved.graph + r.moved.edge;
          if (n > 0)
            log(
              `drain: Rekor answers; moved ${r.moved.graph} graph and ${r.moved.edge} edge submissions back to the queues`,
            );
        },
        (e) => log(`drain: ${(e as Error).message}`),
      );
      closers.unshift(() => drainer!.stop());
      log(`drain: probing ${config.serverUrl} every ${config.offline.probeIntervalMs} ms`);
    }

    const port = options.metricsPort === undefined ? config.metrics.port : options.metricsPort;
    if (port !== null) {
      metricsServer = await startMetricsServer({
        registry,
        port,
        readiness: async () => {
          const [r, p, k] = await Promise.allSettled([
            redis.ping(),
            db.selectFrom('attestor.rekor_quotas').select('tenant_id').limit(1).execute(),
            config.offline.airGapped ? Promise.resolve(undefined) : client.logInfo(),
          ]);
          const check = (s: PromiseSettledResult<unknown>) =>
            s.status === 'fulfilled'
              ? { ok: true }
              : { ok: false, detail: String((s.reason as Error)?.message ?? s.reason) };
          return { redis: check(r), postgres: check(p), rekor: check(k) };
        },
      });
      log(`metrics: ${metricsServer.url}/metrics`);
    }

    let closed = false;
    return {
      metricsUrl: metricsServer?.url,
      metrics,
      budget,
      drainNow: async () => drainer?.drainOnce(),
      async close() {
        if (closed) return;
        closed = true;
        for (const close of closers) await close().catch(() => undefined);
        await metricsServer?.close();
        clearInterval(clockTimer);
        client.close();
        await db.destroy();
        await redis.quit().catch(() => redis.disconnect());
      },
    };
  } catch (e) {
    for (const close of closers) await close().catch(() => undefined);
    await metricsServer?.close().catch(() => undefined);
    clearInterval(clockTimer);
    client.close();
    await db.destroy();
    redis.disconnect();
    throw e;
  }
}

function requireKeyPath(config: RekorConfig): string {
  if (!config.signing.keyPath) {
    throw new RunError(
      'SIGNING_KEY_MISSING',
      'no signing key: set attestor.rekor.signing.keyPath or SIGNING_KEY to a PEM private key (create one with `rekor-budget keygen --out <file>`)',
    );
  }
  return config.signing.keyPath;
}

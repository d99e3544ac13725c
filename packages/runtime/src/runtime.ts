import { sql, type Kysely } from 'kysely';
import { Registry } from 'prom-client';
import {
  createRedisConnection,
  createRedisKeys,
  describeRedis,
  createRepeatGate,
  errorFields,
  MINUTE_MS,
  redactUrl,
  SECOND_MS,
  silentLogger,
  type Logger,
  type RedisConnection,
  type RedisConnectionOptions,
  type RedisKeys,
  type RekorConfig,
  within,
} from '@rekor-budget/core';
import { createDb, type Database } from '@rekor-budget/db';
import {
  createBudget,
  createQuotaMirror,
  syncRedisClock,
  type Budget,
  type QuotaMirror,
} from '@rekor-budget/budget';
import {
  createLanes,
  createReceiptStore,
  createTierQueues,
  OfflineQueue,
  ParkingLot,
  type Lanes,
  RejectedStore,
  type ReceiptStore,
  type TierQueues,
} from '@rekor-budget/queue';
import {
  clientOptionsFromConfig,
  createRekorClient,
  createShardedClient,
  type RekorClient,
  type TimestampProbeResult,
} from '@rekor-budget/rekor';
import { loadTrustDocuments } from './documents';
import { metricsSources, RekorMetrics, type CheckResult } from '@rekor-budget/metrics';
import { requireDurableRedis, requireServices } from './startup';

/** How a process uses Redis. */
export type RedisMode =
  /** Long-running workers and servers: wait for Redis through outages (BullMQ workers need this). */
  | 'worker'
  /** One-shot commands: fail within seconds when Redis does not answer. */
  | 'command';

export interface RuntimeOptions {
  /** The loaded configuration; nothing else is read. */
  config: RekorConfig;
  /** Names the process in Postgres (`application_name`), e.g. `rekor-budget-worker`. */
  name: string;
  /** @defaultValue silentLogger */
  logger?: Logger;
  /**
   * The budget and worker clock (epoch ms). @defaultValue the Redis server's
   * clock (`TIME`), re-synced every minute; a demo or a test may pass its own.
   */
  clock?: () => number;
  /** @defaultValue 'worker' */
  redisMode?: RedisMode;
  /** Postgres connections at most. @defaultValue 10 */
  dbPoolSize?: number;
  /**
   * How long Redis and Postgres may take to answer at start; then the runtime
   * fails with `SERVICE_UNAVAILABLE` naming the one that did not. @defaultValue 10 000
   */
  startupTimeoutMs?: number;
  /**
   * Refuse a Redis that may lose acknowledged jobs (`REDIS_NOT_DURABLE`): what
   * workers do when `redis.requireDurable` is on. @defaultValue false
   */
  requireDurableRedis?: boolean;
}

/** Where the configured Rekor stands, as a probe just saw it. */
export interface RekorReachability {
  state: 'reachable' | 'unreachable' | 'air-gapped';
  serverUrl: string;
  /** e.g. `tree size 12`, `HTTP 503`, `ECONNREFUSED`. */
  detail: string;
  /** Entries in the log, when Rekor answered with its log info. */
  treeSize?: number;
  /** How long the probe took (ms). */
  latencyMs?: number;
}

/** Everything a rekor-budget process works with, built once from the configuration. */
export interface Runtime {
  readonly config: RekorConfig;
  readonly logger: Logger;
  readonly keys: RedisKeys;
  /** The configured Redis: a `Cluster` for Redis Cluster, else a `Redis` (with Sentinel, to the master). */
  readonly redis: RedisConnection;
  readonly db: Kysely<Database>;
  /** The worker clock (epoch ms): the Redis server's time base, or the injected clock. */
  readonly clock: () => number;
  /** The budget: its scripts read Redis `TIME` themselves unless a clock was injected. */
  readonly budget: Budget;
  /** Jobs the budget refused, parked per (tier, tenant) lane in Postgres. */
  readonly parking: ParkingLot;
  /** The scheduler's per-tenant summary in Redis (lanes with parked work, queued and parked tallies). */
  readonly lanes: Lanes;
  readonly quota: QuotaMirror;
  readonly queues: TierQueues;
  readonly offline: OfflineQueue;
  /** Submissions Rekor refused for good. */
  readonly rejected: RejectedStore;
  readonly receipts: ReceiptStore;
  /** The configured Rekor log. */
  readonly client: RekorClient;
  /** The process's metrics, on its own registry; the gauges read this runtime's queues and budgets. */
  readonly metrics: RekorMetrics;
  readonly registry: Registry;
  /** Probes Rekor (never throws); `air-gapped` without a request when `offline.airGapped`. */
  probeRekor(timeoutMs?: number): Promise<RekorReachability>;
  /**
   * Asks the timestamp authority for a timestamp (never throws; its URL
   * without credentials); `undefined` when bundles carry none
   * (`timestampAuthority` unset).
   */
  probeTimestampAuthority(timeoutMs?: number): Promise<TimestampProbeResult | undefined>;
  /** Redis, Postgres and Rekor, each checked now: what `/readyz` serves. */
  readiness(): Promise<Record<string, CheckResult>>;
  /** Closes everything the runtime opened, in reverse order. */
  close(): Promise<void>;
}

/** How long the reachability probe waits by default (ms). */
export const PROBE_TIMEOUT_MS = 2_000;

/** How long one readiness check may take (the metrics server waits 5 s for them all). */
const READINESS_CHECK_MS = 3_000;

/** `work`, or a rejection naming `what` once `ms` have passed. */
function answersWithin<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return within(work, ms, () => new Error(`${what} did not answer within ${ms} ms`));
}

const REDIS_OPTIONS: Record<RedisMode, RedisConnectionOptions> = {
  worker: { maxRetriesPerRequest: null },
  command: { maxRetriesPerRequest: 1, connectTimeout: 3_000, enableOfflineQueue: true },
};

/** Builds the runtime of one process. Resolves once Redis answered the clock sync. */
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  // read before anything is opened: a bad document leaves nothing to close
  const trust = await loadTrustDocuments(config);
  const keys = createRedisKeys(config.redis.keyPrefix, { topology: config.redis.topology });
  const redis = createRedisConnection(config.redis, REDIS_OPTIONS[options.redisMode ?? 'worker']);
  // a connection that retries fails every retry while Redis is away: one line per kind and 30 s
  const repeats = createRepeatGate(30_000);
  redis.on('error', (e: Error) => {
    const verdict = repeats(String((e as { code?: unknown }).code ?? e.message));
    if (!verdict.pass) return;
    logger.warn(
      {
        component: 'redis',
        redis: describeRedis(config.redis),
        ...errorFields(e),
        ...(verdict.heldBack > 0 ? { repeatsHeldBack: verdict.heldBack } : {}),
      },
      'Redis connection error (it reconnects by itself; the same error is logged at most every 30 s)',
    );
  });
  const db = createDb({
    url: config.database.url,
    applicationName: options.name,
    max: options.dbPoolSize ?? 10,
    logger,
  });
  const clientOptions = {
    ...clientOptionsFromConfig(config),
    ...(trust.trustedRoot === undefined ? {} : { trustedRoot: trust.trustedRoot }),
  };
  // the metrics are made after the client: its shard changes reach them once they exist
  const late: { metrics?: RekorMetrics } = {};
  const client =
    trust.signingConfig === undefined
      ? createRekorClient(clientOptions)
      : createShardedClient({
          ...clientOptions,
          signingConfig: trust.signingConfig,
          onShardChange: ({ from, to, reason }) => {
            logger.warn(
              { component: 'rekor', from: redactUrl(from), to: redactUrl(to), reason },
              reason === 'frozen'
                ? `the Rekor shard ${redactUrl(from)} is frozen (405); writing to ${redactUrl(to)} from now on`
                : `the signing config moves writes from ${redactUrl(from)} to ${redactUrl(to)}`,
            );
            late.metrics?.shardSwitch(redactUrl(from), redactUrl(to), reason);
          },
        });
  const queues = createTierQueues({ redis, keys, logger });
  let clockTimer: NodeJS.Timeout | undefined;

  async function release(): Promise<void> {
    clearInterval(clockTimer);
    const steps: [string, () => Promise<unknown>][] = [
      ['tier queues', () => queues.close()],
      ['Postgres pool', () => db.destroy()],
      // QUIT waits for an answer: only a connected client can get one
      ['Redis connection', async () => (redis.status === 'ready' ? redis.quit() : redis.disconnect())],
    ];
    client.close();
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (e) {
        logger.warn({ ...errorFields(e) }, `${what} did not close cleanly`);
      }
    }
    if (redis.status !== 'end') redis.disconnect();
  }

  let clock = options.clock;
  try {
    await requireServices(config, redis, db, options.startupTimeoutMs ?? 10 * SECOND_MS);
    if (options.requireDurableRedis) await requireDurableRedis(config, redis);
  } catch (e) {
    await release();
    throw e;
  }
  if (clock === undefined) {
    try {
      const redisClock = await syncRedisClock(redis);
      clockTimer = setInterval(() => {
        redisClock
          .sync()
          .catch((e: unknown) =>
            logger.warn({ ...errorFields(e) }, 'Redis clock not re-synced; keeping the last offset'),
          );
      }, MINUTE_MS);
      clockTimer.unref();
      clock = redisClock.now;
    } catch (e) {
      await release();
      throw e;
    }
  }

  // An injected clock stamps the budget too (tests, demos); otherwise the scripts read Redis TIME.
  const budget = createBudget({
    redis,
    keys,
    limits: config.budget,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const offline = new OfflineQueue(db);
  const rejected = new RejectedStore(db);
  const parking = new ParkingLot(db);
  const registry = new Registry();
  const rekorMetrics = new RekorMetrics({
    registry,
    sources: metricsSources({ queues, offline, rejected, budget, parking }),
    tenantNames: config.tenants,
    onSourceError: (source, e) => logger.warn({ source, ...errorFields(e) }, 'metrics source failed'),
  });
  late.metrics = rekorMetrics;

  async function probeRekor(timeoutMs = PROBE_TIMEOUT_MS): Promise<RekorReachability> {
    // shown on dashboards and in status: never with credentials
    const serverUrl = redactUrl(client.logUrl);
    if (config.offline.airGapped) {
      return { state: 'air-gapped', serverUrl, detail: 'offline.airGapped is set: never contacted' };
    }
    const p = await client.probe({ timeoutMs });
    return {
      state: p.reachable ? 'reachable' : 'unreachable',
      serverUrl,
      detail: p.detail,
      latencyMs: p.latencyMs,
      ...(p.treeSize === undefined ? {} : { treeSize: p.treeSize }),
    };
  }

  async function probeTimestampAuthority(timeoutMs = PROBE_TIMEOUT_MS) {
    const p = await client.probeTimestampAuthority({ timeoutMs });
    return p && { ...p, url: redactUrl(p.url) };
  }

  let closed: Promise<void> | undefined;
  return {
    config,
    logger,
    keys,
    redis,
    db,
    clock,
    budget,
    parking,
    lanes: createLanes(redis, keys),
    quota: createQuotaMirror(db),
    queues,
    offline,
    rejected,
    receipts: createReceiptStore(db),
    client,
    metrics: rekorMetrics,
    registry,
    probeRekor,
    probeTimestampAuthority,
    async readiness() {
      // each check has its own time limit, under the server's for them all: a service
      // that does not answer (a Redis connection that queues commands while it retries)
      // is named, and the others' answers are kept
      const [r, p, k] = await Promise.allSettled([
        answersWithin(redis.ping(), READINESS_CHECK_MS, 'Redis'),
        answersWithin(sql`SELECT 1`.execute(db), READINESS_CHECK_MS, 'Postgres'),
        probeRekor(),
      ]);
      const check = (s: PromiseSettledResult<unknown>): CheckResult =>
        s.status === 'fulfilled'
          ? { ok: true }
          : { ok: false, detail: s.reason instanceof Error ? s.reason.message : String(s.reason) };
      const rekor: CheckResult =
        k.status === 'fulfilled'
          ? k.value.state === 'unreachable'
            ? { ok: false, detail: k.value.detail }
            : { ok: true, detail: k.value.detail }
          : check(k);
      return { redis: check(r), postgres: check(p), rekor };
    },
    close: () => (closed ??= release()),
  };
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue, Worker } from 'bullmq';
import {
  createRedisConnection,
  type Receipt,
  type RedisConnection,
  type RekorConfig,
  type Tier,
} from '@rekor-budget/core';
import type { OfflineRow } from '@rekor-budget/db';
import { createRekorProducer, type RekorProducer } from '@rekor-budget/producer';
import { RejectedStore, type RejectedSubmission, type SubmissionJobData } from '@rekor-budget/queue';
import { loadSigner, writeKeyPair, type Signer } from '@rekor-budget/rekor';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { createRuntime, type Runtime } from '@rekor-budget/runtime';
import { createTestRedis, createTestServices, type TestDatabase } from '@rekor-budget/testing';
import { createTierWorker, Drainer, Scheduler, type SchedulerOptions } from '@rekor-budget/worker';

export { graphInput, waitFor } from '@rekor-budget/testing';

export interface Harness {
  t: TestDatabase;
  config: RekorConfig;
  /** A connection to the harness's Redis (the shared one, or the private topology). */
  redis: RedisConnection;
  rekor: RekorLocalServer;
  /** The runtime the workers of this harness share (its clock is `clock`). */
  runtime: Runtime;
  signer: Signer;
  producer: RekorProducer;
  /** A producer that holds budget units for what it queues and parks the rest (closed by `close`). */
  budgetedProducer(options?: { redisTimeoutMs?: number }): RekorProducer;
  queues: Record<Tier, Queue<SubmissionJobData>>;
  /** The budget and worker clock: real time plus `advance()`d offset. */
  clock: () => number;
  advance(ms: number): void;
  startWorker(
    tier: Tier,
    options?: { signer?: Signer; concurrency?: number; lockDurationMs?: number },
  ): Worker;
  drainer(): Drainer;
  /** The release loop of a tier on this harness's runtime, started (stopped by `close`). */
  startScheduler(tier: Tier, options?: Omit<SchedulerOptions, 'runtime' | 'tier'>): Scheduler;
  /** Parked jobs of a tenant in a tier (Postgres). */
  parked(tenantId: string, tier?: Tier): Promise<number>;
  receipts(): Promise<Receipt[]>;
  offlineRows(): Promise<OfflineRow[]>;
  /** Submissions kept as refused for good. */
  rejected(): Promise<RejectedSubmission[]>;
  treeSize(): Promise<number>;
  close(): Promise<void>;
}

/** The `redis` keys that select a private cluster or Sentinel set-up (from @rekor-budget/testing). */
export type HarnessTopology =
  { cluster: { nodes: string[] } } | { sentinel: { name: string; nodes: string[] } };

export interface HarnessServices {
  /** A private Redis (e.g. `startPrivateRedis`) instead of the shared one. */
  redisUrl?: string;
  /**
   * A private Redis Cluster or Sentinel set-up instead of the shared Redis;
   * its nodes are durable, so the runtime checks every master as workers do.
   */
  topology?: HarnessTopology;
  /** A private Postgres (e.g. `startPrivatePostgres`, migrated) instead of this file's database. */
  databaseUrl?: string;
  /**
   * Run on production clocks: no injected clock, so the budget scripts read
   * Redis `TIME` and the runtime syncs to it (`advance` then does nothing).
   */
  redisTime?: boolean;
}

/** Real Redis, a fresh database, a fresh rekor-local with faults, a fresh key. */
export async function createHarness(
  rekorOverrides: Record<string, unknown> = {},
  services: HarnessServices = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'rb-worker-'));
  const s = await createTestServices('wk');
  const rekor = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), faults: true, fsync: false });
  const key = await writeKeyPair(join(dir, 'signing.pem'));
  const config = s.config({
    serverUrl: rekor.url,
    tier: 'with-edges',
    signing: { keyPath: key.privateKeyPath },
    retry: { maxAttempts: 3, initialDelay: '00:00:00.050', maxDelay: '00:00:00.200' },
    offline: { probeInterval: '00:00:01' },
    requestTimeout: '00:00:02',
    ...(services.redisUrl
      ? { redis: { url: services.redisUrl, keyPrefix: s.prefix, requireDurable: false } }
      : {}),
    ...(services.topology
      ? { redis: { ...services.topology, keyPrefix: s.prefix, requireDurable: true } }
      : {}),
    ...(services.databaseUrl ? { database: { url: services.databaseUrl } } : {}),
    ...rekorOverrides,
  });
  let offset = 0;
  const clock = () => Date.now() + offset;
  const runtime = await createRuntime({
    config,
    name: 'rekor-budget-test',
    ...(services.redisTime ? {} : { clock }),
    requireDurableRedis: config.redis.requireDurable,
  });
  const signer = await loadSigner({ keyPath: key.privateKeyPath });
  const privateRedis = services.redisUrl !== undefined || services.topology !== undefined;
  // workers need maxRetriesPerRequest: null; made by the factory every process uses
  const connect = (): RedisConnection =>
    privateRedis ? createRedisConnection(config.redis, { maxRetriesPerRequest: null }) : createTestRedis();
  const redis = privateRedis ? connect() : s.redis;
  // a failover or a killed node makes it reconnect: said in the runtime's log, not as an unhandled error
  if (privateRedis)
    redis.on('error', (e: Error) =>
      runtime.logger.debug({ err: e.message }, 'harness Redis connection error'),
    );
  // on a private Redis the producer opens its own (fail-fast) connection to it
  const producer = createRekorProducer({
    config,
    ...(privateRedis ? {} : { redis: s.redis }),
    db: runtime.db,
    clock,
  });
  const workers: Worker[] = [];
  const workerConnections: RedisConnection[] = [];
  const drainers: Drainer[] = [];
  const schedulers: Scheduler[] = [];
  const budgeted: RekorProducer[] = [];

  return {
    t: s.t,
    config,
    redis,
    rekor,
    runtime,
    signer,
    producer,
    budgetedProducer(options = {}) {
      const p = createRekorProducer({
        config,
        redis,
        db: runtime.db,
        budget: runtime.budget,
        clock,
        ...options,
      });
      budgeted.push(p);
      return p;
    },
    queues: { graph: runtime.queues.get('graph'), edge: runtime.queues.get('edge') },
    clock: services.redisTime ? runtime.clock : clock,
    advance: (ms) => {
      offset += ms;
    },
    startWorker(tier, options = {}) {
      const connection = connect();
      workerConnections.push(connection);
      const w = createTierWorker({
        runtime,
        tier,
        signer: options.signer ?? signer,
        connection,
        concurrency: options.concurrency ?? 8,
        ...(options.lockDurationMs ? { lockDurationMs: options.lockDurationMs } : {}),
      });
      workers.push(w);
      return w;
    },
    drainer() {
      const d = new Drainer({ runtime });
      drainers.push(d);
      return d;
    },
    startScheduler(tier, options = {}) {
      const sc = new Scheduler({ runtime, tier, pollMs: 20, ...options });
      schedulers.push(sc);
      sc.start();
      return sc;
    },
    parked: async (tenantId, tier = 'graph') =>
      (await runtime.parking.countByTenant(tier, [tenantId])).get(tenantId.toLowerCase()) ?? 0,
    receipts: () => runtime.receipts.list({ limit: null }),
    offlineRows: () => runtime.offline.list(),
    rejected: () => new RejectedStore(runtime.db).list(),
    treeSize: async () => (await runtime.client.logInfo()).treeSize,
    async close() {
      for (const p of budgeted) await p.close();
      for (const sc of schedulers) await sc.stop();
      for (const d of drainers) await d.stop();
      for (const w of workers) await w.close();
      for (const c of workerConnections) await c.quit();
      await producer.close();
      await runtime.close();
      if (redis !== s.redis) await redis.quit();
      await rekor.close();
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedisKeys, parseConfigObject, TIERS, type RekorConfig, type Tier } from '@rekor-budget/core';
import { createBudget, createQuotaMirror, type Budget } from '@rekor-budget/budget';
import { createRekorProducer, type RekorProducer } from '@rekor-budget/producer';
import {
  clientOptionsFromConfig,
  createReceiptStore,
  createRekorClient,
  loadSigner,
  writeKeyPair,
  type RekorClient,
  type Signer,
} from '@rekor-budget/rekor';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import {
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  redisUrl,
  uniquePrefix,
  type TestDatabase,
} from '@rekor-budget/testing';
import { createTierWorker, Drainer } from '@rekor-budget/worker';

export { graphInput, waitFor } from '@rekor-budget/testing';

export interface Harness {
  t: TestDatabase;
  config: RekorConfig;
  redis: Redis;
  rekor: RekorLocalServer;
  client: RekorClient;
  signer: Signer;
  budget: Budget;
  producer: RekorProducer;
  queues: Record<Tier, Queue>;
  /** The budget and worker clock: real time plus `advance()`d offset. */
  clock: () => number;
  advance(ms: number): void;
  startWorker(tier: Tier, options?: { signer?: Signer; concurrency?: number }): Worker;
  drainer(): Drainer;
  receipts(): Promise<{ content_digest: string; tenant_id: string; log_index: number }[]>;
  offlineRows(): Promise<{ content_digest: string; reason: string }[]>;
  treeSize(): Promise<number>;
  close(): Promise<void>;
}

/** Real Redis, a fresh database, a fresh rekor-local with faults, a fresh key. */
export async function createHarness(rekorOverrides: Record<string, unknown> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'rb-worker-'));
  const t = await createTestDatabase();
  const redis = createTestRedis();
  const prefix = uniquePrefix('wk');
  const rekor = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), faults: true, fsync: false });
  const key = await writeKeyPair(join(dir, 'signing.pem'));
  const config = parseConfigObject(
    {
      attestor: {
        rekor: {
          serverUrl: rekor.url,
          tier: 'with-edges',
          redis: { url: redisUrl(), keyPrefix: prefix },
          database: { url: t.url },
          signing: { keyPath: key.privateKeyPath },
          retry: { maxAttempts: 3, initialDelay: '00:00:00.050', maxDelay: '00:00:00.200' },
          offline: { probeInterval: '00:00:00.100' },
          requestTimeout: '00:00:02',
          ...rekorOverrides,
        },
      },
    },
    { source: 'test' },
  );
  let offset = 0;
  const clock = () => Date.now() + offset;
  const keys = createRedisKeys(prefix);
  const budget = createBudget({ redis, keys, limits: config.budget, clock });
  const client = createRekorClient(clientOptionsFromConfig(config));
  const signer = await loadSigner({ keyPath: key.privateKeyPath });
  const producer = createRekorProducer({ config, redis, db: t.db, clock });
  const queues = Object.fromEntries(
    TIERS.map((tier) => [
      tier,
      new Queue(keys.queueName(tier), { connection: redis, prefix: keys.queuePrefix }),
    ]),
  ) as Record<Tier, Queue>;
  const workers: Worker[] = [];
  const workerConnections: Redis[] = [];
  const drainers: Drainer[] = [];

  return {
    t,
    config,
    redis,
    rekor,
    client,
    signer,
    budget,
    producer,
    queues,
    clock,
    advance: (ms) => {
      offset += ms;
    },
    startWorker(tier, options = {}) {
      const connection = createTestRedis();
      workerConnections.push(connection);
      const w = createTierWorker({
        tier,
        config,
        redis: connection,
        db: t.db,
        budget,
        client,
        signer: options.signer ?? signer,
        receipts: createReceiptStore(t.db),
        quota: createQuotaMirror(t.db),
        clock,
        concurrency: options.concurrency ?? 8,
      });
      workers.push(w);
      return w;
    },
    drainer() {
      const d = new Drainer({
        config,
        redis,
        db: t.db,
        probe: async () => {
          await client.logInfo();
          return true;
        },
      });
      drainers.push(d);
      return d;
    },
    receipts: () =>
      t.db
        .selectFrom('attestor.rekor_entries')
        .select(['content_digest', 'tenant_id', 'log_index'])
        .execute(),
    offlineRows: () =>
      t.db.selectFrom('attestor.rekor_offline_queue').select(['content_digest', 'reason']).execute(),
    treeSize: async () => ((await client.logInfo()) as { treeSize: number }).treeSize,
    async close() {
      for (const d of drainers) await d.stop();
      for (const w of workers) await w.close();
      for (const c of workerConnections) await c.quit();
      await producer.close();
      for (const q of Object.values(queues)) await q.close();
      client.close();
      await rekor.close();
      await deleteKeys(redis, prefix);
      await redis.quit();
      await t.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedisKeys, parseConfigObject, TIERS, type RekorConfig, type Tier } from '@rekor-budget/core';
import { createBudget, createQuotaMirror } from '@rekor-budget/budget';
import { createRekorProducer, type RekorProducer } from '@rekor-budget/producer';
import {
  clientOptionsFromConfig,
  createReceiptStore,
  createRekorClient,
  loadSigner,
  writeKeyPair,
  type RekorClient,
} from '@rekor-budget/rekor';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import {
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  graphInput,
  redisUrl,
  testDigest,
  uniquePrefix,
  waitFor,
  type TestDatabase,
} from '@rekor-budget/testing';
import { createTierWorker } from '@rekor-budget/worker';

export const USER = 'operator';
export const PASSWORD = 'correct horse battery';

/** A running pipeline with real data, as an operator would find it. */
export interface Fixture {
  config: RekorConfig;
  rekor: RekorLocalServer;
  /** Over budget: 2 jobs went through (burst cap 2), 3 wait delayed, 1 offline row. */
  busyTenant: string;
  /** 1 job went through. */
  quietTenant: string;
  /** Log indexes of the receipts, per tenant. */
  logIndexes(tenantId: string): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * rekor-local, a fresh database and key prefix, a producer and a graph worker,
 * with a budget small enough that a few jobs wait: hourly 3, burst 12/h over
 * 10 min (2 per burst window).
 */
export async function createFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'rb-dashboard-'));
  const t: TestDatabase = await createTestDatabase();
  const redis: Redis = createTestRedis();
  const workerRedis: Redis = createTestRedis();
  const prefix = uniquePrefix('dash');
  const rekor = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), fsync: false });
  const key = await writeKeyPair(join(dir, 'signing.pem'));
  const config = parseConfigObject(
    {
      attestor: {
        rekor: {
          serverUrl: rekor.url,
          redis: { url: redisUrl(), keyPrefix: prefix },
          database: { url: t.url },
          signing: { keyPath: key.privateKeyPath },
          budget: { hourlyLimit: 3, burstLimit: 12, burstWindow: '00:10:00' },
          requestTimeout: '00:00:02',
          dashboard: { user: USER, password: PASSWORD },
        },
      },
    },
    { source: 'test' },
  );
  const keys = createRedisKeys(prefix);
  const budget = createBudget({ redis, keys, limits: config.budget });
  const client: RekorClient = createRekorClient(clientOptionsFromConfig(config));
  const receipts = createReceiptStore(t.db);
  const producer: RekorProducer = createRekorProducer({ config, redis, db: t.db });
  const queues = Object.fromEntries(
    TIERS.map((tier) => [
      tier,
      new Queue(keys.queueName(tier), { connection: redis, prefix: keys.queuePrefix }),
    ]),
  ) as Record<Tier, Queue>;
  let worker: Worker | undefined;

  const close = async () => {
    await worker?.close();
    await workerRedis.quit();
    await producer.close();
    for (const q of Object.values(queues)) await q.close();
    client.close();
    await rekor.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
    await t.drop();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    worker = createTierWorker({
      tier: 'graph',
      config,
      redis: workerRedis,
      db: t.db,
      budget,
      client,
      signer: await loadSigner({ keyPath: key.privateKeyPath }),
      receipts,
      quota: createQuotaMirror(t.db),
      concurrency: 1,
    });
    const busyTenant = randomUUID();
    const quietTenant = randomUUID();
    for (let i = 0; i < 5; i++) await producer.submitGraphAttestation(graphInput(busyTenant, `busy-${i}`));
    await producer.submitGraphAttestation(graphInput(quietTenant, 'quiet-0'));
    await t.db
      .insertInto('attestor.rekor_offline_queue')
      .values({
        tenant_id: busyTenant,
        tier: 'graph',
        payload: Buffer.from('{}'),
        content_digest: testDigest('offline-busy'),
        reason: 'rekor_unreachable',
      })
      .execute();
    const count = async (tenantId: string) => (await receipts.list({ tenantId })).length;
    await waitFor(
      async () =>
        (await count(busyTenant)) === 2 &&
        (await count(quietTenant)) === 1 &&
        (await queues.graph.getDelayedCount()) === 3,
      20_000,
      '3 receipts and 3 delayed jobs',
    );
    return {
      config,
      rekor,
      busyTenant,
      quietTenant,
      logIndexes: async (tenantId) => (await receipts.list({ tenantId })).map((r) => r.logIndex),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

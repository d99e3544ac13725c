import { contentDigest, createRedisKeys, validateGraphInput, type Tier } from '@rekor-budget/core';
import {
  createTierQueues,
  OfflineQueue,
  submissionJobOptions,
  SUBMISSION_JOB,
  type SubmissionJobData,
} from '@rekor-budget/queue';
import {
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  graphInput,
  testConfig,
  uniquePrefix,
  type TestDatabase,
} from '@rekor-budget/testing';
import type { Redis } from 'ioredis';

const A = '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b';
const B = '6f1d3c2a-0b4e-4f5a-9c8d-7e6f5a4b3c2d';
let t: TestDatabase;
let redis: Redis;
const prefix = uniquePrefix('oq');

beforeAll(async () => {
  t = await createTestDatabase();
  redis = createTestRedis();
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
  await t.drop();
});

function job(tenantId: string, scanId: string, priority = 0): SubmissionJobData {
  const input = validateGraphInput({ ...graphInput(tenantId, scanId), priority });
  return { version: 1, tier: 'graph', contentDigest: contentDigest('graph', input), input, enqueuedAt: 1 };
}

describe('OfflineQueue', () => {
  test('a job going offline while a drain moves its row takes the row over: the drain deletes nothing of it', async () => {
    const q = new OfflineQueue(t.db);
    const data = job(A, 'drained-then-offline');
    const { id: drained } = await q.add(data, 'rekor_unreachable');
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let claimed: () => void = () => undefined;
    const claim = new Promise<void>((r) => (claimed = r));
    // the drain: claims the row, (adds its job), and deletes it when it commits
    const drain = t.db.transaction().execute(async (trx) => {
      const rows = await q.claim(trx, 10, { reasons: ['rekor_unreachable'] });
      expect(rows.map((r) => r.id)).toContain(drained);
      claimed();
      await held;
      await q.delete(trx, [drained]);
    });
    await claim;
    // the drained job runs at once and goes offline again before the drain commits
    const again = q.add(data, 'rekor_unreachable', { takeOver: true });
    const early = await Promise.race([
      again.then(() => 'answered'),
      new Promise((r) => setTimeout(r, 200, 'waits')),
    ]);
    expect(early).toBe('waits');
    release();
    await drain;
    const r = await again;
    expect(r.inserted).toBe(true);
    expect(r.id).not.toBe(drained);
    const rows = await q.list();
    expect(rows.filter((x) => x.content_digest === data.contentDigest).map((x) => x.id)).toEqual([r.id]);
    await t.db.deleteFrom('attestor.rekor_offline_queue').execute();
  });

  test('taking over a row no drain holds keeps one row, under a new id, with the new reason', async () => {
    const q = new OfflineQueue(t.db);
    const data = job(A, 'taken-over');
    const first = await q.add(data, 'overflow');
    const second = await q.add(data, 'rekor_timeout', { takeOver: true });
    expect(second).toMatchObject({ inserted: true });
    expect(second.id).not.toBe(first.id);
    const rows = (await q.list()).filter((x) => x.content_digest === data.contentDigest);
    expect(rows.map((x) => [x.id, x.reason])).toEqual([[second.id, 'rekor_timeout']]);
    await t.db.deleteFrom('attestor.rekor_offline_queue').execute();
  });

  test('stores a content once, counts by tier, reason and tenant, and lists in drain order', async () => {
    const q = new OfflineQueue(t.db);
    const low = job(A, 'low', 0);
    const high = job(A, 'high', 5);
    expect((await q.add(low, 'overflow')).inserted).toBe(true);
    expect(await q.add(low, 'rekor_unreachable')).toMatchObject({ inserted: false });
    await q.add(high, 'rekor_unreachable');
    await q.add(job(B, 'b'), 'air_gapped');
    expect(await q.size()).toBe(3);
    expect(await q.depth()).toEqual({ graph: 3, edge: 0 });
    expect(await q.counts()).toEqual([
      { tier: 'graph', reason: 'air_gapped', rows: 1 },
      { tier: 'graph', reason: 'overflow', rows: 1 },
      { tier: 'graph', reason: 'rekor_unreachable', rows: 1 },
    ]);
    expect(await q.countByTenant([A, B, '00000000-0000-4000-8000-000000000000'])).toEqual(
      new Map([
        [A, 2],
        [B, 1],
      ]),
    );
    const order = (await q.list()).map((r) => r.content_digest);
    expect(order.indexOf(high.contentDigest)).toBeLessThan(order.indexOf(low.contentDigest));
    expect(OfflineQueue.decode((await q.list({ reasons: ['overflow'] }))[0]!)).toEqual(low);
  });

  test('claims lock rows: a second transaction skips them; filters narrow', async () => {
    const q = new OfflineQueue(t.db);
    await t.db.transaction().execute(async (a) => {
      const mine = await q.claim(a, 10, { reasons: ['rekor_unreachable', 'overflow'] });
      expect(mine).toHaveLength(2);
      await t.db.transaction().execute(async (b) => {
        expect(await q.claim(b, 10, {})).toHaveLength(1); // only the air-gapped row is free
        expect(await q.claim(b, 10, { signed: true })).toHaveLength(0);
      });
    });
  });

  test('marks exported rows, and closes answered rows only when air-gapped or exported', async () => {
    const q = new OfflineQueue(t.db);
    const rows = await q.list();
    const gapped = rows.find((r) => r.reason === 'air_gapped')!;
    const unreachable = rows.find((r) => r.reason === 'rekor_unreachable')!;
    await t.db.transaction().execute((trx) => q.markExported(trx, [unreachable.id], new Date()));
    expect(await q.list({ exported: true })).toHaveLength(1);
    const overflow = rows.find((r) => r.reason === 'overflow')!;
    const closed = await t.db
      .transaction()
      .execute((trx) =>
        q.closeAnswered(trx, [gapped.content_digest, unreachable.content_digest, overflow.content_digest]),
      );
    expect(closed).toBe(2);
    expect((await q.list()).map((r) => r.reason)).toEqual(['overflow']);
  });
});

describe('tier queues', () => {
  test('backlog counts what waits, depth adds what runs; queues come from the key helper', async () => {
    const keys = createRedisKeys(prefix);
    const queues = createTierQueues({ redis, keys });
    const config = testConfig({ prefix, databaseUrl: t.url });
    const tier: Tier = 'graph';
    expect(queues.get(tier).name).toBe(keys.queueName(tier));
    const data = job(A, 'queued');
    await queues.get(tier).add(SUBMISSION_JOB, data, submissionJobOptions(config, 'j1'));
    await queues
      .get(tier)
      .add(SUBMISSION_JOB, data, { ...submissionJobOptions(config, 'j2'), delay: 60_000 });
    expect(await queues.backlog(tier)).toBe(2);
    expect(await queues.depth()).toEqual({ graph: 2, edge: 0 });
    await queues.close();
  });
});

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { contentDigest, validateGraphInput, type Tier } from '@rekor-budget/core';
import type { OfflineReason } from '@rekor-budget/db';
import type { SubmissionJobData } from '@rekor-budget/queue';
import { Drainer } from '@rekor-budget/worker';
import { startPrivateRedis, type PrivateRedis } from '@rekor-budget/testing';
import { createHarness, graphInput, waitFor, type Harness } from './harness';

/**
 * The drain moves offline rows back into the tier queue in parallel batches:
 * every row exactly once, never more than the room it was given, and two
 * drains at once never move a row twice.
 */
jest.setTimeout(120_000);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function offlineRows(harness: Harness, n: number, reason: OfflineReason): Promise<void> {
  const tenant = randomUUID();
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, (_, k) => {
        const input = validateGraphInput({ ...graphInput(tenant, `drain-${i + k}`), priority: (i + k) % 7 });
        const data: SubmissionJobData = {
          version: 1,
          tier: 'graph',
          contentDigest: contentDigest('graph', input),
          input,
          enqueuedAt: Date.now(),
        };
        return harness.runtime.offline.add(data, reason);
      }),
    );
  }
}

const queued = (harness: Harness) => harness.queues.graph.getJobs(['waiting', 'prioritized']);

test('parallel batches move every row once and leave none behind', async () => {
  h = await createHarness();
  await offlineRows(h, 1_050, 'rekor_unreachable');
  const rowIds = (await h.offlineRows()).map((r) => r.id);
  const report = await new Drainer({ runtime: h.runtime, batchSize: 100, parallel: 3 }).drainOnce();
  expect(report).toEqual({
    rekorUp: true,
    moved: { graph: 1_050, edge: 0 },
    heldBack: { graph: 0, edge: 0 },
  });
  expect(await h.offlineRows()).toEqual([]);
  const jobs = await queued(h);
  expect(jobs.map((j) => j.id).sort()).toEqual(rowIds.sort());
});

test('one batch at a time: rows enter the queue in drain order, the highest priority first', async () => {
  h = await createHarness();
  await offlineRows(h, 700, 'rekor_unreachable');
  await new Drainer({ runtime: h.runtime, batchSize: 100, parallel: 1 }).drainOnce();
  const byTime = new Map<number, number[]>();
  for (const j of await queued(h)) {
    byTime.set(j.timestamp, [...(byTime.get(j.timestamp) ?? []), j.data.input.priority ?? 0]);
  }
  const groups = [...byTime.entries()].sort(([a], [b]) => a - b).map(([, p]) => p);
  expect(groups.flat()).toHaveLength(700);
  expect(groups.length).toBeGreaterThan(1);
  // whatever was added later has a priority no higher than anything added before
  for (let i = 1; i < groups.length; i++) {
    expect(Math.max(...groups[i]!)).toBeLessThanOrEqual(Math.min(...groups[i - 1]!));
  }
});

test('overflow rows move only into the room below the low-water mark, with batches in flight at once', async () => {
  h = await createHarness({ offline: { maxQueueSize: 500, probeInterval: '00:00:01' } });
  await offlineRows(h, 900, 'overflow');
  const report = await new Drainer({ runtime: h.runtime, batchSize: 40, parallel: 4 }).drainOnce();
  // low water is half of maxQueueSize
  expect(report.moved.graph).toBe(250);
  expect(await queued(h)).toHaveLength(250);
  expect(await h.offlineRows()).toHaveLength(650);
  // the rest waits for room, and the report says so
  expect(report.heldBack).toEqual({ graph: 650, edge: 0 });
  const again = await new Drainer({ runtime: h.runtime }).drainOnce();
  expect(again).toMatchObject({ moved: { graph: 0, edge: 0 }, heldBack: { graph: 650, edge: 0 } });
});

test('two drains at once never move a row twice', async () => {
  h = await createHarness();
  await offlineRows(h, 800, 'rekor_error');
  const [a, b] = await Promise.all([
    new Drainer({ runtime: h.runtime, batchSize: 50, parallel: 2 }).drainOnce(),
    new Drainer({ runtime: h.runtime, batchSize: 50, parallel: 2 }).drainOnce(),
  ]);
  expect(a.moved.graph + b.moved.graph).toBe(800);
  const jobs = await queued(h);
  expect(jobs).toHaveLength(800);
  expect(new Set(jobs.map((j) => j.data.contentDigest)).size).toBe(800);
  expect(await h.offlineRows()).toEqual([]);
});

test('each probe sets attestor_rekor_up: 0 while Rekor does not answer, 1 once it does', async () => {
  h = await createHarness();
  const up = async () =>
    /^attestor_rekor_up\{log="([^"]+)"\} (\d+)$/m.exec(await h!.runtime.registry.metrics())?.slice(1);
  // no probe yet: no sample, so no alert from a process that never probed
  expect(await up()).toBeUndefined();
  h.rekor.faults.set({ mode: 'offline' });
  expect(await new Drainer({ runtime: h.runtime }).drainOnce()).toMatchObject({ rekorUp: false });
  expect(await up()).toEqual([h.rekor.url, '0']);
  h.rekor.faults.clear();
  expect(await new Drainer({ runtime: h.runtime }).drainOnce()).toMatchObject({ rekorUp: true });
  expect(await up()).toEqual([h.rekor.url, '1']);
});

test('a batch Redis does not take in time rolls back: its rows stay (and unlocked), and the late add does no harm', async () => {
  const redis: PrivateRedis = await startPrivateRedis();
  const pauser = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  try {
    h = await createHarness({}, { redisUrl: redis.url });
    const harness = h;
    await offlineRows(harness, 40, 'rekor_unreachable');
    const rowIds = (await harness.offlineRows()).map((r) => r.id).sort();
    // the queue's add is sent once Redis holds writes for 1.5 s (reads still answer)
    const queues = {
      ...harness.runtime.queues,
      get: (tier: Tier) => {
        const queue = harness.runtime.queues.get(tier);
        return Object.assign(Object.create(queue) as typeof queue, {
          addBulk: async (jobs: Parameters<typeof queue.addBulk>[0]) => {
            await pauser.client('PAUSE', 1_500, 'WRITE');
            return queue.addBulk(jobs);
          },
        });
      },
    };
    const drainer = new Drainer({ runtime: { ...harness.runtime, queues }, addTimeoutMs: 300 });
    await expect(drainer.drainOnce()).rejects.toMatchObject({ code: 'REDIS_TIMEOUT' });
    // rolled back: every row is still there, and none is locked (a claim takes them all)
    expect((await harness.offlineRows()).map((r) => r.id).sort()).toEqual(rowIds);
    const locked = await harness.runtime.db
      .transaction()
      .execute((trx) => harness.runtime.offline.claim(trx, 100, { tier: 'graph' }));
    expect(locked).toHaveLength(40);
    // the add lands once Redis goes on; the next pass finds the jobs and deletes the rows
    await waitFor(async () => (await queued(harness)).length === 40, 10_000, 'the late add to land');
    const report = await new Drainer({ runtime: harness.runtime }).drainOnce();
    expect(report.moved.graph).toBe(40);
    expect(await harness.offlineRows()).toEqual([]);
    expect((await queued(harness)).map((j) => j.id).sort()).toEqual(rowIds);
  } finally {
    pauser.disconnect();
    await h?.close();
    h = undefined;
    await redis.destroy();
  }
});

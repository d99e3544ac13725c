import { randomUUID } from 'node:crypto';
import { contentDigest, validateGraphInput } from '@rekor-budget/core';
import type { OfflineReason } from '@rekor-budget/db';
import type { SubmissionJobData } from '@rekor-budget/queue';
import { Drainer } from '@rekor-budget/worker';
import { createHarness, graphInput, type Harness } from './harness';

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

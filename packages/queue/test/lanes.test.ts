import { createRedisKeys } from '@rekor-budget/core';
import { createLanes } from '@rekor-budget/queue';
import { createTestRedis, deleteKeys, uniquePrefix } from '@rekor-budget/testing';
import type { Redis } from 'ioredis';

let redis: Redis;
const prefix = uniquePrefix('lanes');
const keys = createRedisKeys(prefix);

beforeAll(() => {
  redis = createTestRedis();
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe('lanes', () => {
  test('wake brings a sleeping lane forward, never back, and makes no lane of its own', async () => {
    const lanes = createLanes(redis, keys);
    await lanes.mark('graph', 'Tenant-A', 1_000, 3);
    await lanes.reschedule('graph', 'tenant-a', 600_000);
    await lanes.wake('graph', 'TENANT-A', 5_000);
    expect(await lanes.list('graph')).toEqual([{ tenantId: 'tenant-a', nextCheckAt: 5_000 }]);
    // a later instant leaves the earlier look alone
    await lanes.wake('graph', 'tenant-a', 9_000);
    expect(await lanes.list('graph')).toEqual([{ tenantId: 'tenant-a', nextCheckAt: 5_000 }]);
    // a tenant without parked work has no lane, and a unit coming back gives it none
    await lanes.wake('graph', 'tenant-b', 1_000);
    await lanes.wake('edge', 'tenant-a', 1_000);
    expect(await lanes.list('graph')).toHaveLength(1);
    expect(await lanes.list('edge')).toEqual([]);
  });

  test('a new lane and a lane brought forward signal the scheduler; an existing or unmoved lane does not', async () => {
    const lanes = createLanes(redis, keys);
    const blocking = redis.duplicate();
    try {
      // nothing pushed: the wait ends at its timeout
      expect(await lanes.awaitSignal(blocking, 'edge', 50)).toBe(false);
      await lanes.mark('edge', 'tenant-s', 60_000, 1);
      // the signal holds one item however often it is pushed
      await lanes.mark('edge', 'tenant-t', 60_000, 1);
      expect(await redis.llen(keys.schedulerSignal('edge'))).toBe(1);
      expect(await lanes.awaitSignal(blocking, 'edge', 5_000)).toBe(true);
      // a mark of a lane that exists says nothing new to the scheduler
      await lanes.mark('edge', 'tenant-s', 0, 1);
      expect(await lanes.awaitSignal(blocking, 'edge', 50)).toBe(false);
      // brought forward: signalled; not moved (due earlier already): not
      await lanes.wake('edge', 'tenant-s', 1_000);
      expect(await lanes.awaitSignal(blocking, 'edge', 5_000)).toBe(true);
      await lanes.wake('edge', 'tenant-s', 2_000);
      await lanes.wake('edge', 'tenant-nobody', 0);
      expect(await lanes.awaitSignal(blocking, 'edge', 50)).toBe(false);
      // a waiter blocked before the push is woken by it
      const waiting = lanes.awaitSignal(blocking, 'edge', 30_000);
      await lanes.mark('edge', 'tenant-u', 0, 1);
      expect(await waiting).toBe(true);
    } finally {
      blocking.disconnect();
    }
  });

  test('batchState: tallies and each job as none, live or finished; no job of the batch exists: no look per job', async () => {
    const lanes = createLanes(redis, keys);
    await lanes.count('graph', 'q', new Map([['tenant-q', 2]]));
    await lanes.mark('graph', 'tenant-q', 60_000, 3);
    const job = (id: string) => `${keys.queuePrefix('graph')}:${keys.queueName('graph')}:${id}`;
    // as BullMQ keeps a job: `timestamp` when added, `finishedOn` once completed or failed
    await redis.hset(job('live'), 'timestamp', '1');
    await redis.hset(job('done'), 'timestamp', '1', 'finishedOn', '2');
    const read = await lanes.batchState(
      'graph',
      ['Tenant-Q', 'tenant-none'],
      [job('live'), job('new'), job('done')],
    );
    expect(read.tallies).toEqual(
      new Map([
        ['tenant-q', { queued: 2, parked: 3 }],
        ['tenant-none', { queued: 0, parked: 0 }],
      ]),
    );
    expect(read.states).toEqual(['live', 'none', 'finished']);
    const fresh = await lanes.batchState('graph', [], [job('new'), job('newer')]);
    expect(fresh.states).toEqual(['none', 'none']);
    expect((await lanes.batchState('graph', ['tenant-q'], [])).states).toEqual([]);
  });
});

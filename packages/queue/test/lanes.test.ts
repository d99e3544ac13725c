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
});

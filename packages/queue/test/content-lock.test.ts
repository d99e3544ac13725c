import { createRedisKeys } from '@rekor-budget/core';
import { createContentLock } from '@rekor-budget/queue';
import { createTestRedis, deleteKeys, testDigest, uniquePrefix } from '@rekor-budget/testing';
import type { Redis } from 'ioredis';

let redis: Redis;
const prefix = uniquePrefix('lock');
const keys = createRedisKeys(prefix);

beforeAll(() => {
  redis = createTestRedis();
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe('content lock', () => {
  test('one job at a time per content; the holder may take it again; release frees it', async () => {
    const lock = createContentLock(redis, keys);
    const d = testDigest('content-a');
    expect(await lock.acquire(d, 'job-1', 60_000)).toBe(true);
    expect(await lock.acquire(d, 'job-2', 60_000)).toBe(false);
    // the same job after a crash on another worker
    expect(await lock.acquire(d, 'job-1', 60_000)).toBe(true);
    // another content is independent
    expect(await lock.acquire(testDigest('content-b'), 'job-2', 60_000)).toBe(true);
    await lock.release(d, 'job-1');
    expect(await lock.acquire(d, 'job-2', 60_000)).toBe(true);
  });

  test('a release by a job that no longer holds the lock leaves the holder alone', async () => {
    const lock = createContentLock(redis, keys);
    const d = testDigest('content-c');
    expect(await lock.acquire(d, 'old', 60_000)).toBe(true);
    await redis.del(keys.inflight(d)); // the old holder's lock expired
    expect(await lock.acquire(d, 'new', 60_000)).toBe(true);
    await lock.release(d, 'old');
    expect(await redis.get(keys.inflight(d))).toBe('new');
  });

  test('the lock expires after its lifetime, so a dead holder cannot block the content', async () => {
    const lock = createContentLock(redis, keys);
    const d = testDigest('content-d');
    expect(await lock.acquire(d, 'dead', 5_000)).toBe(true);
    const ttl = await redis.pttl(keys.inflight(d));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
  });
});

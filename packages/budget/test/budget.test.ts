import type { Redis } from 'ioredis';
import { createRedisKeys } from '@rekor-budget/core';
import { createTestRedis, deleteKeys, uniquePrefix } from '@rekor-budget/testing';
import { createBudget, syncRedisClock, type Budget } from '@rekor-budget/budget';
import { fakeClock, limits, tenant } from './helpers';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('createBudget', () => {
  let redis: Redis;
  let prefix: string;
  let clock: ReturnType<typeof fakeClock>;
  let budget: Budget;
  const keysOf = () => createRedisKeys(prefix);

  beforeAll(() => {
    redis = createTestRedis();
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    prefix = uniquePrefix('budget');
    clock = fakeClock();
    budget = createBudget({ redis, keys: keysOf(), limits: limits(), clock });
  });
  afterEach(async () => {
    await deleteKeys(redis, prefix);
  });

  test('Tier 1 admits the burst cap (33 per 10 min), then refuses until the oldest unit leaves', async () => {
    const t = tenant();
    const start = clock();
    for (let i = 0; i < 33; i++) {
      const d = await budget.tryConsume(t, 'graph');
      expect(d.admitted).toBe(true);
      clock.advance(1000);
    }
    const refused = await budget.tryConsume(t, 'graph');
    expect(refused).toMatchObject({ admitted: false, binding: 'burst', retryAtMs: start + 10 * MIN });
    expect(refused.remaining).toEqual({ hour: 67, burst: 0 });
    clock.set(start + 10 * MIN - 1);
    expect((await budget.tryConsume(t, 'graph')).admitted).toBe(false);
    clock.set(start + 10 * MIN);
    const d = await budget.tryConsume(t, 'graph');
    expect(d).toMatchObject({ admitted: true, remaining: { hour: 66, burst: 0 } });
  });

  test('Tier 1 hour cap binds after 100 units; retryAtMs is when the oldest leaves the hour', async () => {
    const t = tenant();
    const start = clock();
    // 10 units every 5 minutes stays under the burst cap.
    for (let i = 0; i < 100; i++) {
      expect((await budget.tryConsume(t, 'graph')).admitted).toBe(true);
      clock.advance(i % 10 === 9 ? 5 * MIN - 9 * 1000 : 1000);
    }
    const refused = await budget.tryConsume(t, 'graph');
    expect(refused).toMatchObject({ admitted: false, binding: 'hour', retryAtMs: start + HOUR });
    expect(refused.remaining).toMatchObject({ hour: 0 });
  });

  test('Tier 2 admits 50 per rolling day and is independent of Tier 1', async () => {
    const t = tenant();
    const start = clock();
    for (let i = 0; i < 50; i++) expect((await budget.tryConsume(t, 'edge')).admitted).toBe(true);
    const refused = await budget.tryConsume(t, 'edge');
    expect(refused).toMatchObject({
      admitted: false,
      binding: 'day',
      retryAtMs: start + 24 * HOUR,
      remaining: { day: 0 },
    });
    expect((await budget.tryConsume(t, 'graph')).admitted).toBe(true);
  });

  test('after the limits are lowered, retryAtMs waits until enough units leave to fit one more', async () => {
    const t = tenant();
    const start = clock();
    for (let i = 0; i < 33; i++) {
      expect((await budget.tryConsume(t, 'graph')).admitted).toBe(true);
      clock.advance(1000);
    }
    // burstLimit 120/h over 10 min: 20 per window; 33 are in it, so 14 must leave.
    const lower = createBudget({
      redis,
      keys: keysOf(),
      limits: limits({ burstLimit: 120, hourlyLimit: 100 }),
      clock,
    });
    const d = await lower.tryConsume(t, 'graph');
    expect(d).toMatchObject({ admitted: false, binding: 'burst', retryAtMs: start + 13 * 1000 + 10 * MIN });
    clock.set(start + 13 * 1000 + 10 * MIN - 1);
    expect((await lower.tryConsume(t, 'graph')).admitted).toBe(false);
    clock.set(start + 13 * 1000 + 10 * MIN);
    expect(await lower.tryConsume(t, 'graph')).toMatchObject({ admitted: true, remaining: { burst: 0 } });
  });

  test('units spent in the same millisecond get distinct ids', async () => {
    const t = tenant();
    const ids = new Set<string>();
    for (let i = 0; i < 33; i++) {
      const d = await budget.tryConsume(t, 'graph');
      if (d.admitted) ids.add(d.unitId);
    }
    expect(ids.size).toBe(33);
    expect(await redis.zcard(keysOf().budgetUnits(t, 'graph'))).toBe(33);
  });

  test('refund gives a unit back in every window of the tier, once', async () => {
    const t = tenant();
    const ids: string[] = [];
    for (let i = 0; i < 33; i++) {
      const d = await budget.tryConsume(t, 'graph');
      if (d.admitted) ids.push(d.unitId);
    }
    expect((await budget.tryConsume(t, 'graph')).admitted).toBe(false);
    expect(await budget.refund(t, 'graph', ids[5]!)).toBe(true);
    expect(await budget.refund(t, 'graph', ids[5]!)).toBe(false);
    const d = await budget.tryConsume(t, 'graph');
    expect(d).toMatchObject({ admitted: true, remaining: { hour: 67, burst: 0 } });
  });

  test('peek reports without consuming', async () => {
    const t = tenant();
    expect(await budget.peek(t, 'edge')).toMatchObject({
      admissible: true,
      retryAtMs: null,
      remaining: { day: 50 },
    });
    for (let i = 0; i < 50; i++) await budget.tryConsume(t, 'edge');
    const s = await budget.peek(t, 'edge');
    expect(s).toMatchObject({ admissible: false, retryAtMs: clock() + 24 * HOUR, binding: 'day' });
    expect(s.windows).toEqual([{ name: 'day', windowMs: 24 * HOUR, limit: 50, used: 50, remaining: 0 }]);
    expect(await redis.zcard(keysOf().budgetUnits(t, 'edge'))).toBe(50);
  });

  test('an idle tenant costs nothing: peek writes nothing, and every key expires with its window', async () => {
    const t = tenant();
    await budget.peek(t, 'graph');
    expect(await redis.exists(keysOf().budgetUnits(t, 'graph'))).toBe(0);
    await budget.tryConsume(t, 'graph');
    // one set serves both windows of the tier: it lives as long as the longest
    const ttl = await redis.pttl(keysOf().budgetUnits(t, 'graph'));
    expect(ttl).toBeGreaterThan(HOUR - 5000);
    expect(ttl).toBeLessThanOrEqual(HOUR);
  });

  test('keys carry the tenant hash tag', async () => {
    const t = tenant();
    await budget.tryConsume(t, 'graph');
    await budget.tryConsume(t, 'edge');
    const found = await redis.keys(`${prefix}:budget:*`);
    expect(found.sort()).toEqual(['edge', 'graph'].map((w) => `${prefix}:budget:{${t}}:${w}`));
  });

  test('activeTenants lists tenants with a decision in the last 24 h, and drops older ones', async () => {
    const [a, b] = [tenant(), tenant()];
    await budget.tryConsume(a, 'graph');
    clock.advance(HOUR);
    await budget.tryConsume(b, 'edge');
    expect(await budget.activeTenants()).toEqual([b, a]);
    expect(await budget.activeTenants(clock() - MIN)).toEqual([b]);
    clock.advance(24 * HOUR - 1);
    expect(await budget.activeTenants()).toEqual([b]);
    expect(await redis.zcard(keysOf().activeTenants)).toBe(1);
  });

  test.each(['not-a-uuid', '', '{x}'])(
    'tenant %j is refused with INVALID_TENANT before it touches Redis',
    async (bad) => {
      await expect(budget.tryConsume(bad, 'graph')).rejects.toMatchObject({ code: 'INVALID_TENANT' });
      await expect(budget.peek(bad, 'edge')).rejects.toMatchObject({ code: 'INVALID_TENANT' });
      await expect(budget.refund(bad, 'edge', 'AAAAAAAAAAAA')).rejects.toMatchObject({
        code: 'INVALID_TENANT',
      });
    },
  );

  test('typed errors for a bad tier, unit id, clock and limits', async () => {
    const t = tenant();
    await expect(budget.tryConsume(t, 'bundle' as 'edge')).rejects.toMatchObject({ code: 'INVALID_TIER' });
    await expect(budget.refund(t, 'graph', 'nope')).rejects.toMatchObject({ code: 'INVALID_UNIT_ID' });
    await expect(budget.hold(t, 'graph', ['a:b'])).rejects.toMatchObject({ code: 'INVALID_JOB_ID' });
    await expect(budget.tryConsume(t, 'graph', 'x y')).rejects.toMatchObject({ code: 'INVALID_JOB_ID' });
    await expect(budget.estimate(t, 'graph', -1)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(budget.activeTenants(NaN)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const bad = createBudget({ redis, keys: keysOf(), limits: limits(), clock: () => 1.5 });
    await expect(bad.tryConsume(t, 'graph')).rejects.toMatchObject({ code: 'INVALID_CLOCK' });
    expect(() => createBudget({ redis, keys: keysOf(), limits: { ...limits(), hourlyLimit: 0 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_LIMITS' }),
    );
  });

  test('syncRedisClock follows the Redis server clock', async () => {
    const c = await syncRedisClock(redis);
    const [sec] = await redis.time();
    expect(Math.abs(c.now() - Number(sec) * 1000)).toBeLessThan(2000);
    const real = createBudget({ redis, keys: keysOf(), limits: limits(), clock: c.now });
    const d = await real.tryConsume(tenant(), 'graph');
    expect(d.admitted).toBe(true);
  });

  test('holds promise units to released jobs: others are refused, the holder is admitted once', async () => {
    const t = tenant();
    for (let i = 0; i < 30; i++) await budget.tryConsume(t, 'graph');
    // 3 units fit in the burst window: only the first 3 of 5 ids are held
    expect(await budget.hold(t, 'graph', ['j1', 'j2', 'j3', 'j4', 'j5'])).toMatchObject({ held: 3, free: 0 });
    // a replayed release holds the same jobs again, and no more
    expect(await budget.hold(t, 'graph', ['j1', 'j2', 'j3', 'j4'])).toMatchObject({ held: 3, free: 0 });
    expect(await budget.peek(t, 'graph')).toMatchObject({ admissible: false, held: 3, free: 0 });
    expect((await budget.tryConsume(t, 'graph')).admitted).toBe(false);
    expect((await budget.tryConsume(t, 'graph', 'j4')).admitted).toBe(false);
    for (const id of ['j2', 'j1', 'j3'])
      expect((await budget.tryConsume(t, 'graph', id)).admitted).toBe(true);
    expect(await budget.peek(t, 'graph')).toMatchObject({ held: 0, free: 0, remaining: { burst: 0 } });
    expect((await budget.tryConsume(t, 'graph', 'j1')).admitted).toBe(false);
  });

  test('a hold of a job that never runs expires, and its unit is free again', async () => {
    const t = tenant();
    const short = createBudget({ redis, keys: keysOf(), limits: limits(), clock, holdMs: 5000 });
    for (let i = 0; i < 32; i++) await short.tryConsume(t, 'graph');
    expect((await short.hold(t, 'graph', ['lost'])).held).toBe(1);
    expect((await short.tryConsume(t, 'graph')).admitted).toBe(false);
    clock.advance(5000);
    expect((await short.tryConsume(t, 'graph')).admitted).toBe(true);
  });

  test('holds that fill the window say when they expire, not when a unit leaves a day window', async () => {
    // a crash between hold and enqueue leaves holds no job will spend
    const t = tenant();
    const start = clock();
    const short = createBudget({ redis, keys: keysOf(), limits: limits(), clock, holdMs: 10 * MIN });
    for (let i = 0; i < 45; i++) await short.tryConsume(t, 'edge');
    clock.advance(HOUR);
    expect((await short.hold(t, 'edge', ['o1', 'o2', 'o3', 'o4', 'o5'])).held).toBe(5);
    const peeked = await short.peek(t, 'edge');
    expect(peeked).toMatchObject({ admissible: false, free: 0, held: 5 });
    // the first hold expires in 10 minutes; the first unit leaves the day window in 23 hours
    expect(peeked.retryAtMs).toBe(start + HOUR + 10 * MIN);
    const refused = await short.tryConsume(t, 'edge');
    expect(refused).toMatchObject({ admitted: false, retryAtMs: start + HOUR + 10 * MIN });
    // a holder's own hold is its unit: the others' holds still say when the next fits
    expect((await short.tryConsume(t, 'edge', 'o1')).admitted).toBe(true);
    expect(await short.tryConsume(t, 'edge')).toMatchObject({
      admitted: false,
      retryAtMs: start + HOUR + 10 * MIN,
    });
    clock.set(start + HOUR + 10 * MIN);
    expect((await short.peek(t, 'edge')).free).toBe(4);
  });

  test('a released hold frees its unit at once; releasing again or an unknown job changes nothing', async () => {
    const t = tenant();
    for (let i = 0; i < 32; i++) await budget.tryConsume(t, 'graph');
    expect((await budget.hold(t, 'graph', ['done'])).held).toBe(1);
    expect((await budget.tryConsume(t, 'graph')).admitted).toBe(false);
    expect(await budget.release(t, 'graph', 'done')).toBe(true);
    expect(await budget.release(t, 'graph', 'done')).toBe(false);
    expect(await budget.release(t, 'graph', 'never-held')).toBe(false);
    // the released job no longer holds anything: its unit went to the next comer
    expect((await budget.tryConsume(t, 'graph')).admitted).toBe(true);
    expect((await budget.tryConsume(t, 'graph', 'done')).admitted).toBe(false);
    await expect(budget.release(t, 'graph', 'a:b')).rejects.toMatchObject({ code: 'INVALID_JOB_ID' });
    // a hold that expired freed its unit already: releasing it frees nothing more
    const short = createBudget({ redis, keys: keysOf(), limits: limits(), clock, holdMs: 5000 });
    const u = tenant();
    expect((await short.hold(u, 'graph', ['late'])).held).toBe(1);
    clock.advance(5000);
    expect(await short.release(u, 'graph', 'late')).toBe(false);
    expect(await redis.exists(keysOf().budgetHolds(u, 'graph'))).toBe(0);
    await expect(budget.release(t, 'nope' as never, 'x')).rejects.toMatchObject({ code: 'INVALID_TIER' });
  });

  test('without an injected clock the scripts stamp units with Redis TIME', async () => {
    const t = tenant();
    const onRedis = createBudget({ redis, keys: keysOf(), limits: limits() });
    const [sec, usec] = await redis.time();
    const redisNow = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    const d = await onRedis.tryConsume(t, 'graph');
    expect(d.admitted).toBe(true);
    expect(Math.abs(d.atMs - redisNow)).toBeLessThan(1000);
    expect(Math.abs((await onRedis.now()) - redisNow)).toBeLessThan(1000);
    const [member, at] = d.admitted ? d.unitId.split('.') : [];
    expect(Number(await redis.zscore(keysOf().budgetUnits(t, 'graph'), member!))).toBe(Number(at));
    if (d.admitted) expect(await onRedis.refund(t, 'graph', d.unitId)).toBe(true);
  });

  test('estimate counts the jobs ahead against both windows', async () => {
    const t = tenant();
    const start = clock();
    expect(await budget.estimate(t, 'graph', 0)).toBe(start);
    expect(await budget.estimate(t, 'graph', 32)).toBe(start);
    expect(await budget.estimate(t, 'graph', 33)).toBe(start + 10 * MIN);
    expect(await budget.estimate(t, 'graph', 99)).toBe(start + 30 * MIN);
    expect(await budget.estimate(t, 'graph', 100)).toBe(start + HOUR);
    for (let i = 0; i < 33; i++) await budget.tryConsume(t, 'graph');
    expect(await budget.estimate(t, 'graph', 0)).toBe(start + 10 * MIN);
    await budget.hold(t, 'graph', ['x']);
    expect(await budget.estimate(t, 'edge', 49)).toBe(start);
    expect(await budget.estimate(t, 'edge', 50)).toBe(start + 24 * HOUR);
  });

  test('a tenant at full hourly use keeps its units in a compact set under 2 KB', async () => {
    const t = tenant();
    for (let i = 0; i < 100; i++) {
      expect((await budget.tryConsume(t, 'graph')).admitted).toBe(true);
      clock.advance(i % 33 === 32 ? 10 * MIN : 1000);
    }
    const key = keysOf().budgetUnits(t, 'graph');
    expect(await redis.object('ENCODING', key)).toBe('listpack');
    expect(Number(await redis.memory('USAGE', key))).toBeLessThanOrEqual(2048);
  });
});

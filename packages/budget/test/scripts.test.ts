import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { createTestRedis, deleteKeys, uniquePrefix } from '@rekor-budget/testing';
import { SCRIPT_NAMES, loadScript, type ScriptName } from '@rekor-budget/budget';
import { defineScripts } from '../src/scripts';

/**
 * The budget scripts on their own, as Redis runs them: each one serves both
 * tiers, so each is run with one key (Tier 2: day) and two keys (Tier 1: hour, burst).
 */

const T = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const BURST = 600_000;
const DAY = 24 * HOUR;

describe('Lua scripts', () => {
  let redis: Redis;
  let prefix: string;
  let script: (name: ScriptName) => (keys: string[], args: (string | number)[]) => Promise<unknown>;
  const key = (name: string) => `${prefix}:${name}`;

  beforeAll(() => {
    redis = createTestRedis();
    script = defineScripts(redis);
  });
  afterAll(() => redis.quit());
  beforeEach(() => {
    prefix = uniquePrefix('lua');
  });
  afterEach(async () => {
    await deleteKeys(redis, prefix);
  });

  test.each(SCRIPT_NAMES)(
    '%s.lua opens with its header and loads in Redis with every include expanded',
    async (name) => {
      const raw = readFileSync(join(__dirname, '..', 'src', 'scripts', `${name}.lua`), 'utf8');
      expect(raw.startsWith('--[[')).toBe(true);
      const text = loadScript(name);
      expect(text).not.toContain('@include');
      expect(await redis.script('LOAD', text)).toMatch(/^[0-9a-f]{40}$/);
    },
  );

  describe('consume', () => {
    test('two keys (hour cap 2, burst cap 1): admits, refuses on the burst, admits once the unit leaves it', async () => {
      const k = [key('hour'), key('burst')];
      const args = (at: number, unit: string) => [at, unit, HOUR, 2, BURST, 1];
      expect(await script('consume')(k, args(T, 'u1'))).toEqual([1, 1, 0, 1, 0]);
      expect(await script('consume')(k, args(T + 1, 'u2'))).toEqual([0, 1, 0, 1, T + BURST]);
      expect(await script('consume')(k, args(T + BURST, 'u3'))).toEqual([1, 2, 0, 1, 0]);
      expect(await redis.zrange(k[0]!, 0, -1)).toEqual(['u1', 'u3']);
      expect(await redis.zrange(k[1]!, 0, -1)).toEqual(['u3']);
      // Each key expires when its newest unit leaves.
      expect(await redis.pttl(k[0]!)).toBeGreaterThan(HOUR - 60_000);
      expect(await redis.pttl(k[1]!)).toBeLessThanOrEqual(BURST);
    });

    test('one key (day cap 1): admits, refuses until the unit leaves the day', async () => {
      const k = [key('day')];
      expect(await script('consume')(k, [T, 'u1', DAY, 1])).toEqual([1, 1, 0]);
      expect(await script('consume')(k, [T + DAY - 1, 'u2', DAY, 1])).toEqual([0, 1, T + DAY]);
      expect(await script('consume')(k, [T + DAY, 'u3', DAY, 1])).toEqual([1, 1, 0]);
      expect(await redis.zrange(k[0]!, 0, -1)).toEqual(['u3']);
    });

    test('a unit id already in the first window is an error reply, and nothing is written', async () => {
      const k = [key('hour'), key('burst')];
      await script('consume')(k, [T, 'u1', HOUR, 5, BURST, 5]);
      await expect(script('consume')(k, [T + 1, 'u1', HOUR, 5, BURST, 5])).rejects.toThrow(/^DUPLICATE_UNIT/);
      expect(await redis.zcard(k[1]!)).toBe(1);
    });
  });

  describe('peek', () => {
    test('two keys: the same verdict as consume, writing nothing', async () => {
      const k = [key('hour'), key('burst')];
      expect(await script('peek')(k, [T, '', HOUR, 2, BURST, 1])).toEqual([1, 0, 0, 0, 0]);
      expect(await redis.exists(...k)).toBe(0);
      await script('consume')(k, [T, 'u1', HOUR, 2, BURST, 1]);
      expect(await script('peek')(k, [T + 1, '', HOUR, 2, BURST, 1])).toEqual([0, 1, 0, 1, T + BURST]);
      expect(await script('peek')(k, [T + BURST, '', HOUR, 2, BURST, 1])).toEqual([1, 1, 0, 0, 0]);
      // The unit that left the burst window is still stored: peek trims nothing.
      expect(await redis.zcard(k[1]!)).toBe(1);
    });

    test('one key', async () => {
      const k = [key('day')];
      expect(await script('peek')(k, [T, '', DAY, 1])).toEqual([1, 0, 0]);
      await script('consume')(k, [T, 'u1', DAY, 1]);
      expect(await script('peek')(k, [T + 1, '', DAY, 1])).toEqual([0, 1, T + DAY]);
      expect(await redis.zcard(k[0]!)).toBe(1);
    });
  });

  describe('refund', () => {
    test('two keys: counts the windows that still held the unit and removes it from both', async () => {
      const k = [key('hour'), key('burst')];
      await script('consume')(k, [T, 'u1', HOUR, 5, BURST, 5]);
      await script('consume')(k, [T, 'u2', HOUR, 5, BURST, 5]);
      expect(await script('refund')(k, ['u1', T + 1, HOUR, BURST])).toBe(2);
      expect(await script('refund')(k, ['u1', T + 1, HOUR, BURST])).toBe(0);
      // u2 has left the burst window but still counts in the hour.
      expect(await script('refund')(k, ['u2', T + BURST, HOUR, BURST])).toBe(1);
      expect(await redis.exists(...k)).toBe(0);
    });

    test('one key', async () => {
      const k = [key('day')];
      await script('consume')(k, [T, 'u1', DAY, 1]);
      expect(await script('refund')(k, ['u1', T + 1, DAY])).toBe(1);
      expect(await script('refund')(k, ['u1', T + 1, DAY])).toBe(0);
      expect(await script('consume')(k, [T + 2, 'u2', DAY, 1])).toEqual([1, 1, 0]);
    });
  });

  test('touch (one key): marks tenants active, never moves one back, drops those idle past the retention', async () => {
    const k = [key('active')];
    expect(await script('touch')(k, [T, 'a', DAY])).toBe(1);
    expect(await script('touch')(k, [T + 1, 'b', DAY])).toBe(2);
    expect(await script('touch')(k, [T - 5, 'b', DAY])).toBe(2);
    expect(await redis.zscore(k[0]!, 'b')).toBe(String(T + 1));
    expect(await script('touch')(k, [T + DAY + 1, 'c', DAY])).toBe(1);
    expect(await redis.zrange(k[0]!, 0, -1)).toEqual(['c']);
    expect(await redis.pttl(k[0]!)).toBeGreaterThan(DAY - 60_000);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { createTestRedis, deleteKeys, uniquePrefix } from '@rekor-budget/testing';
import { SCRIPT_NAMES, loadScript, type ScriptName } from '@rekor-budget/budget';
import { defineScripts } from '../src/scripts';

/**
 * The budget scripts on their own, as Redis runs them: each one serves both
 * tiers, so each is run with one window (Tier 2: day) and two (Tier 1: hour, burst).
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

  // KEYS: units, holds. ARGV: now, holder/member, hold ms / spent at, n, (window ms, cap)...
  const units = () => [key('units'), key('holds')];

  describe('consume', () => {
    test('two windows in one set (hour cap 2, burst cap 1): admits, refuses on the burst, admits once the unit leaves it', async () => {
      const k = units();
      const args = (at: number) => [at, '', '', 2, HOUR, 2, BURST, 1];
      expect(await script('consume')(k, args(T))).toEqual([1, T, T % 4096, 1, 0, 1, 0]);
      expect(await script('consume')(k, args(T + 1))).toEqual([0, T + 1, -1, 1, 0, 1, T + BURST]);
      expect(await script('consume')(k, args(T + BURST))).toEqual([
        1,
        T + BURST,
        (T + BURST) % 4096,
        2,
        0,
        1,
        0,
      ]);
      expect(await redis.zrange(k[0]!, 0, -1, 'WITHSCORES')).toEqual([
        String(T % 4096),
        String(T),
        String((T + BURST) % 4096),
        String(T + BURST),
      ]);
      // The set expires when its newest unit leaves the longest window.
      expect(await redis.pttl(k[0]!)).toBeGreaterThan(HOUR - 60_000);
      expect(await redis.object('ENCODING', k[0]!)).toBe('listpack');
    });

    test('one window (day cap 1): admits, refuses until the unit leaves the day', async () => {
      const k = units();
      expect((await script('consume')(k, [T, '', '', 1, DAY, 1])) as number[]).toEqual([
        1,
        T,
        T % 4096,
        1,
        0,
      ]);
      expect(await script('consume')(k, [T + DAY - 1, '', '', 1, DAY, 1])).toEqual([
        0,
        T + DAY - 1,
        -1,
        1,
        T + DAY,
      ]);
      expect(((await script('consume')(k, [T + DAY, '', '', 1, DAY, 1])) as number[])[0]).toBe(1);
      expect(await redis.zcard(k[0]!)).toBe(1);
    });

    test('units spent in one millisecond get distinct small members', async () => {
      const k = units();
      const members = new Set<number>();
      for (let i = 0; i < 50; i++) {
        members.add(((await script('consume')(k, [T, '', '', 1, DAY, 50])) as number[])[2]!);
      }
      expect(members.size).toBe(50);
      expect([...members].every((m) => m >= 0 && m < 4096)).toBe(true);
    });

    test('an empty now reads Redis TIME inside the script', async () => {
      const [sec] = await redis.time();
      const reply = (await script('consume')(units(), ['', '', '', 1, DAY, 1])) as number[];
      expect(Math.abs(reply[1]! - Number(sec) * 1000)).toBeLessThan(2000);
    });
  });

  describe('peek', () => {
    test('the same verdict as consume with holds counted, writing nothing', async () => {
      const k = units();
      const args = (at: number) => [at, '', '', 2, HOUR, 3, BURST, 2];
      expect(await script('peek')(k, args(T))).toEqual([1, T, 0, 2, 0, 0, 0, 0]);
      expect(await redis.exists(...k)).toBe(0);
      await script('consume')(k, args(T));
      await script('hold')(k, [T, '', 1000, 2, HOUR, 3, BURST, 2, 'job-1']);
      // full until the hold expires (T + 1000), well before the unit leaves the burst window
      expect(await script('peek')(k, args(T + 1))).toEqual([0, T + 1, 1, 0, 1, 0, 1, T + 1000]);
      // the hold expired: one unit fits again
      expect(await script('peek')(k, args(T + 1000))).toEqual([1, T + 1000, 0, 1, 1, 0, 1, 0]);
    });
  });

  describe('hold', () => {
    test('holds ids in order while units fit; an id already held keeps its hold', async () => {
      const k = units();
      const w = [1, DAY, 2];
      expect(await script('hold')(k, [T, '', 5000, ...w, 'a', 'b', 'c'])).toEqual([T, 2, 0]);
      expect(await script('hold')(k, [T + 1, '', 5000, ...w, 'b', 'c'])).toEqual([T + 1, 1, 0]);
      expect(await redis.zrange(k[1]!, 0, -1)).toEqual(['a', 'b']);
      // the holder spends its own hold; a stranger is refused
      expect(((await script('consume')(k, [T + 2, 'c', '', ...w])) as number[])[0]).toBe(0);
      expect(((await script('consume')(k, [T + 2, 'a', '', ...w])) as number[])[0]).toBe(1);
      expect(await redis.zrange(k[1]!, 0, -1)).toEqual(['b']);
    });

    test('an id twice in one call holds one unit, as a replayed release does', async () => {
      const k = units();
      const w = [1, DAY, 3];
      expect(await script('hold')(k, [T, '', 5000, ...w, 'a', 'a', 'b', 'c'])).toEqual([T, 4, 0]);
      expect(await redis.zrange(k[1]!, 0, -1)).toEqual(['a', 'b', 'c']);
    });

    test("an expired hold is not its holder's unit, beside another job's live hold: no over-admission", async () => {
      const k = units();
      const w = [1, DAY, 2];
      expect(((await script('consume')(k, [T, '', '', ...w])) as number[])[0]).toBe(1);
      // one unit spent and one live hold of another job fill the cap of 2; the caller's
      // hold expired a moment ago (nobody trimmed it yet)
      await redis.zadd(k[1]!, T + 5000, 'other', T + 9, 'late');
      expect(((await script('consume')(k, [T + 10, 'late', '', ...w])) as number[])[0]).toBe(0);
      // the expired hold is gone, the live one stays for its job, who is admitted
      expect(await redis.zrange(k[1]!, 0, -1)).toEqual(['other']);
      expect(((await script('consume')(k, [T + 11, 'other', '', ...w])) as number[])[0]).toBe(1);
      expect(await redis.exists(k[1]!)).toBe(0);
    });
  });

  describe('refund', () => {
    test('removes the unit spent at that instant, once', async () => {
      const k = units();
      const m = ((await script('consume')(k, [T, '', '', 1, DAY, 5])) as number[])[2]!;
      expect(await script('refund')([k[0]!], [T + 1, m, T - 1, DAY])).toBe(0);
      expect(await script('refund')([k[0]!], [T + 1, m, T, DAY])).toBe(1);
      expect(await script('refund')([k[0]!], [T + 1, m, T, DAY])).toBe(0);
      expect(await redis.exists(k[0]!)).toBe(0);
    });
  });

  test('touch (one key): marks tenants active, never moves one back, drops those idle past the retention as the set grows', async () => {
    const k = [key('active')];
    expect(await script('touch')(k, [T, 'a', DAY])).toBe(1);
    expect(await script('touch')(k, [T + 1, 'b', DAY])).toBe(1);
    expect(await script('touch')(k, [T - 5, 'b', DAY])).toBe(0);
    expect(await redis.zscore(k[0]!, 'b')).toBe(String(T + 1));
    // a known tenant moves forward only; the idle ones go once a new tenant comes
    expect(await script('touch')(k, [T + DAY + 1, 'b', DAY])).toBe(0);
    expect(await redis.zrange(k[0]!, 0, -1)).toEqual(['a', 'b']);
    expect(await script('touch')(k, [T + DAY + 1, 'c', DAY])).toBe(1);
    expect(await redis.zrange(k[0]!, 0, -1)).toEqual(['b', 'c']);
    expect(await redis.pttl(k[0]!)).toBeGreaterThan(DAY - 60_000);
  });
});

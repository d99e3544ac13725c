import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { defineLuaScripts, loadLuaScript, type RekorBudgetError } from '@rekor-budget/core';
import { createTestRedis, uniquePrefix } from '@rekor-budget/testing';

/**
 * Core's Lua loader (`loadLuaScript`, `defineLuaScripts`), on fixture scripts
 * in test/fixtures/lua/. The budget is its first user; the tests live here
 * because they need a real Redis.
 */

const DIR = join(__dirname, 'fixtures', 'lua');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as RekorBudgetError).code;
  }
  return undefined;
}

describe('Lua loader', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = createTestRedis();
  });
  afterAll(() => redis.quit());

  test('every include line of a script expands, not only the first', async () => {
    const text = loadLuaScript(DIR, 'two-includes');
    expect(text).not.toContain('@include');
    // Redis refuses a call to an undefined global, so this fails if either include stayed a comment.
    expect(await redis.eval(text, 0)).toEqual(['first', 'second']);
  });

  test('an include may include another', async () => {
    const text = loadLuaScript(DIR, 'nested');
    expect(text).not.toContain('@include');
    expect(await redis.eval(text, 0)).toBe('outer(first)');
  });

  test('a cycle of includes, a missing include and a malformed include line are refused with a code', () => {
    expect(codeOf(() => loadLuaScript(DIR, 'cycle'))).toBe('LUA_INCLUDE_INVALID');
    expect(codeOf(() => loadLuaScript(DIR, 'malformed'))).toBe('LUA_INCLUDE_INVALID');
    expect(codeOf(() => loadLuaScript(DIR, 'missing'))).toBe('LUA_SCRIPT_UNREADABLE');
    expect(codeOf(() => loadLuaScript(DIR, 'absent'))).toBe('LUA_SCRIPT_UNREADABLE');
  });

  test('defined scripts take any number of keys: the runner passes the count', async () => {
    const commandPrefix = `loaderTest_${uniquePrefix().replace(/-/g, '_')}`;
    const script = defineLuaScripts(redis, { dir: DIR, names: ['key-count', 'nested'], commandPrefix });
    const k = (n: number) => Array.from({ length: n }, (_, i) => `${commandPrefix}:k${i + 1}`);
    expect(await script('key-count')([], ['a'])).toEqual([0, 1, null]);
    expect(await script('key-count')(k(1), ['a', 2])).toEqual([1, 2, `${commandPrefix}:k1`]);
    expect(await script('key-count')(k(3), [])).toEqual([3, 0, `${commandPrefix}:k3`]);
    expect(await script('nested')([], [])).toBe('outer(first)');
    // Defining again on the same connection keeps the commands and still runs them.
    const again = defineLuaScripts(redis, { dir: DIR, names: ['key-count'], commandPrefix });
    expect(await again('key-count')(k(2), ['x'])).toEqual([2, 1, `${commandPrefix}:k2`]);
  });
});

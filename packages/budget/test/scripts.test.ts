import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { createTestRedis } from '@rekor-budget/testing';
import { SCRIPT_NAMES, loadScript } from '@rekor-budget/budget';

describe('Lua scripts', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = createTestRedis();
  });
  afterAll(() => redis.quit());

  test.each(SCRIPT_NAMES)(
    '%s.lua opens with KEYS, ARGV and output, and names its key count',
    async (name) => {
      const raw = readFileSync(join(__dirname, '..', 'src', 'scripts', `${name}.lua`), 'utf8');
      const numKeys = Number(name.split('-')[1]);
      const header = raw.slice(0, raw.indexOf(']]'));
      expect(raw.startsWith('--[[')).toBe(true);
      expect(header).toContain(`KEYS[${numKeys}]`);
      expect(header).not.toContain(`KEYS[${numKeys + 1}]`);
      expect(header).toContain('ARGV[1]');
      expect(header).toContain('Output');
      const text = loadScript(name);
      expect(text).not.toContain('@include');
      // Redis compiles it.
      const sha = await redis.script('LOAD', text);
      expect(sha).toMatch(/^[0-9a-f]{40}$/);
    },
  );
});

import type { Redis } from 'ioredis';
import { parseConfigObject, type RekorConfig } from '@rekor-budget/core';
import { createTestDatabase, type TestDatabase } from './database';
import { createTestRedis, deleteKeys, uniquePrefix } from './redis';
import { redisUrl } from './services';

/** What a test file needs of the shared services: its own database, Redis key prefix and configuration. */
export interface TestServices {
  /** This file's own database (cloned from the migrated template). */
  t: TestDatabase;
  /** A connection to the test Redis (for assertions and set-up). */
  redis: Redis;
  /** This file's Redis key prefix. */
  prefix: string;
  /**
   * A validated configuration on this file's Redis prefix and database, with
   * `attestor.rekor` keys from `overrides` (YAML names, e.g. `retry.initialDelay`).
   */
  config(overrides?: Record<string, unknown>): RekorConfig;
  /** Deletes the prefix's keys, closes the connection and drops the database. */
  close(): Promise<void>;
}

/** The set-up every integration test file starts from; `label` names its key prefix. */
export async function createTestServices(
  label: string,
  base: Record<string, unknown> = {},
): Promise<TestServices> {
  const t = await createTestDatabase();
  const redis = createTestRedis();
  const prefix = uniquePrefix(label);
  return {
    t,
    redis,
    prefix,
    config: (overrides = {}) => testConfig({ prefix, databaseUrl: t.url, ...base, ...overrides }),
    async close() {
      await deleteKeys(redis, prefix);
      await redis.quit();
      await t.drop();
    },
  };
}

/**
 * A validated configuration for a test: `attestor.rekor` with Redis at the
 * test Redis under `prefix`, Postgres at `databaseUrl`, and any other keys as
 * given.
 */
export function testConfig(
  options: { prefix: string; databaseUrl: string } & Record<string, unknown>,
): RekorConfig {
  const { prefix, databaseUrl, ...rekor } = options;
  return parseConfigObject(
    {
      attestor: {
        rekor: {
          // the shared test Redis keeps nothing on disk; durability is tested on private instances
          redis: { url: redisUrl(), keyPrefix: prefix, requireDurable: false },
          database: { url: databaseUrl },
          ...rekor,
        },
      },
    },
    { source: 'test' },
  );
}

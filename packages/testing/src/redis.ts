import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { redisUrl } from './services';

/** A key prefix no other test uses, e.g. `t-lq3k9x-1a2b3c`. */
export function uniquePrefix(label = 't'): string {
  return `${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A new Redis connection to the test Redis; close it with `quit()`. */
export function createTestRedis(options: RedisOptions = {}): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: null, lazyConnect: false, ...options });
}

/**
 * Deletes every key a test made under `prefix` (plain and hash-tagged forms,
 * every layout: `prefix:…`, `{prefix}:…`, `{prefix:tier}:…`). Two passes over
 * the keyspace in large steps: the shared Redis holds every running test's
 * keys, so the cost is the keyspace, not the test's own keys.
 */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  for (const pattern of [`${prefix}:*`, `{${prefix}[}:]*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  }
  return deleted;
}

import { sql, type Kysely } from 'kysely';
import {
  describeRedis,
  redactUrl,
  redisLocationKey,
  redisMasters,
  type RedisConnection,
  type RekorConfig,
  within,
} from '@rekor-budget/core';
import type { Database } from '@rekor-budget/db';
import { RuntimeError } from './error';

function reason(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

/** Redis and Postgres each answer within `timeoutMs`, or a `SERVICE_UNAVAILABLE` that names the one that did not. */
export async function requireServices(
  config: RekorConfig,
  redis: RedisConnection,
  db: Kysely<Database>,
  timeoutMs: number,
): Promise<void> {
  const where = describeRedis(config.redis);
  const location = redisLocationKey(config.redis);
  const databaseUrl = redactUrl(config.database.url);
  const redisCheck = within(
    redis.ping(),
    timeoutMs,
    () => new Error(`no answer within ${timeoutMs} ms`),
  ).catch((e: unknown) => {
    throw new RuntimeError(
      'SERVICE_UNAVAILABLE',
      'redis',
      `${where} does not answer (${reason(e)}); start it, or point ${location.env} (${location.key}) at a running Redis`,
      { cause: e },
    );
  });
  const postgresCheck = within(
    sql`SELECT 1`.execute(db),
    timeoutMs,
    () => new Error(`no answer within ${timeoutMs} ms`),
  ).catch((e: unknown) => {
    throw new RuntimeError(
      'SERVICE_UNAVAILABLE',
      'postgres',
      `Postgres at ${databaseUrl} does not answer (${reason(e)}); start it, or point DATABASE_URL (database.url) at a running Postgres`,
      { cause: e },
    );
  });
  const [r, p] = await Promise.allSettled([redisCheck, postgresCheck]);
  if (r.status === 'rejected') throw r.reason;
  if (p.status === 'rejected') throw p.reason;
}

/**
 * Redis keeps the queued jobs and the budget windows. A Redis without AOF
 * forgets them on a restart, one with an eviction policy may drop them under
 * memory pressure: workers refuse to start on it (`redis.requireDurable`).
 * In a cluster every master is asked (each holds its share of the keys);
 * with Sentinel, the master the sentinels named.
 */
export async function requireDurableRedis(config: RekorConfig, redis: RedisConnection): Promise<void> {
  const where = describeRedis(config.redis);
  const masters = redisMasters(redis);
  if (masters.length === 0) {
    throw new RuntimeError(
      'REDIS_NOT_DURABLE',
      'redis',
      `${where} lists no master yet, so its persistence settings cannot be read; check that every slot is served (redis-cli --cluster check), or set redis.requireDurable: false for a throw-away setup`,
    );
  }
  const problems: string[] = [];
  for (const { address, client } of masters) {
    const node = masters.length > 1 || config.redis.topology !== 'single' ? ` (master ${address})` : '';
    let appendonly: string | undefined;
    let policy: string | undefined;
    try {
      appendonly = ((await client.config('GET', 'appendonly')) as string[])[1];
      policy = ((await client.config('GET', 'maxmemory-policy')) as string[])[1];
    } catch (e) {
      throw new RuntimeError(
        'REDIS_NOT_DURABLE',
        'redis',
        `cannot read the persistence settings of ${where}${node} (${reason(e)}); allow CONFIG GET for this user, or, if you know Redis keeps AOF on and never evicts, set redis.requireDurable: false`,
        { cause: e },
      );
    }
    if (appendonly !== 'yes') {
      problems.push(`appendonly is ${appendonly ?? 'unknown'}${node} (set appendonly yes)`);
    }
    if (policy !== 'noeviction') {
      problems.push(`maxmemory-policy is ${policy ?? 'unknown'}${node} (set maxmemory-policy noeviction)`);
    }
  }
  if (problems.length > 0) {
    throw new RuntimeError(
      'REDIS_NOT_DURABLE',
      'redis',
      `${where} may lose queued submissions and budget windows: ${problems.join('; ')}. Fix its configuration (redis.conf or CONFIG SET${masters.length > 1 ? ' on every master' : ''}), or set redis.requireDurable: false for a throw-away setup`,
    );
  }
}

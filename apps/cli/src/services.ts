import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { RekorConfig } from '@rekor-budget/core';
import { createDb, type Database } from '@rekor-budget/db';

export interface Services {
  redis: Redis;
  db: Kysely<Database>;
  close(): Promise<void>;
}

/** Opens Redis and Postgres for a one-shot command. */
export function openServices(config: RekorConfig): Services {
  const redis = new Redis(config.redis.url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    enableOfflineQueue: true,
  });
  redis.on('error', () => undefined);
  const db = createDb({ url: config.database.url, max: 2, applicationName: 'rekor-budget-cli' });
  return {
    redis,
    db,
    async close() {
      await db.destroy();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

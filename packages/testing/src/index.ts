export {
  redisUrl,
  databaseUrl,
  answers,
  dockerAvailable,
  DEFAULT_REDIS_URL,
  DEFAULT_DATABASE_URL,
} from './services';
export { createTestDatabase } from './database';
export type { TestDatabase } from './database';
export { createTestRedis, uniquePrefix, deleteKeys } from './redis';
export { testDigest, graphInput, waitFor } from './fixtures';

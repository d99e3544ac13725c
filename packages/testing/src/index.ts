export {
  redisUrl,
  databaseUrl,
  answers,
  dockerAvailable,
  DEFAULT_REDIS_URL,
  DEFAULT_DATABASE_URL,
} from './services';
export { createTestDatabase } from './database';
export { createBenchDatabase } from './bench';
export type { BenchDatabase } from './bench';
export type { TestDatabase } from './database';
export { createTestRedis, uniquePrefix, deleteKeys } from './redis';
export { testDigest, graphInput, edgeInput, waitFor } from './fixtures';
export { createTestServices, testConfig } from './context';
export type { TestServices } from './context';
export { http } from './http';
export type { HttpResult } from './http';
export { startPrivateRedis, startPrivatePostgres, freePort } from './private-services';
export type { PrivateRedis, PrivatePostgres } from './private-services';
export { startPrivateCluster, startPrivateSentinel } from './private-topologies';
export type { PrivateCluster, PrivateSentinel } from './private-topologies';

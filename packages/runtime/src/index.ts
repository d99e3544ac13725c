export { createRuntime, PROBE_TIMEOUT_MS } from './runtime';
export type { Runtime, RuntimeOptions, RedisMode, RekorReachability } from './runtime';
export { RuntimeError } from './error';
export type { RuntimeErrorCode } from './error';
export { requireDurableRedis } from './startup';
export { loadTrustDocuments } from './documents';
export type { RekorTrustDocuments } from './documents';

export { createRuntime, PROBE_TIMEOUT_MS } from './runtime';
export type { Runtime, RuntimeOptions, RedisMode, RekorReachability } from './runtime';

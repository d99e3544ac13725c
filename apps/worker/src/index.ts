export { createTierWorker } from './tier-worker';
export type { TierWorkerOptions } from './tier-worker';
export { Drainer } from './drain';
export type { DrainOptions, DrainReport } from './drain';
export { createProcessor, MAX_BUDGET_DELAYS, offlineMarkTtlMs } from './processor';
export type { JobResult } from './processor';
export type * from './ports';

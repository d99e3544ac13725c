import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedisKeys, type Tier } from '@rekor-budget/core';
import {
  BACKOFF_STRATEGY,
  backoffDelayMs,
  OfflineQueue,
  type SubmissionJobData,
} from '@rekor-budget/producer';
import type { Kysely } from 'kysely';
import type { Database } from '@rekor-budget/db';
import { createProcessor, type JobResult } from './processor';
import type { WorkerDeps } from './ports';

export interface TierWorkerOptions extends WorkerDeps {
  tier: Tier;
  /** Connection for the worker (BullMQ duplicates it for blocking reads). Needs `maxRetriesPerRequest: null`. */
  redis: Redis;
  db: Kysely<Database>;
  /** Jobs in flight per process. @defaultValue 8 */
  concurrency?: number;
  /** Start without waiting for `run()`. @defaultValue true */
  autorun?: boolean;
  /**
   * How long a job's lock lasts without renewal: after a worker dies, its
   * jobs go to another worker once their locks expire. @defaultValue 30 000
   */
  lockDurationMs?: number;
}

/** Without a configured pace, a limiter this high never binds; it lets 429s pause the queue. */
const UNBOUNDED_PACE = { max: 1_000_000, duration: 1000 };

/** A BullMQ worker for one tier's queue. */
export function createTierWorker(options: TierWorkerOptions): Worker<SubmissionJobData, JobResult> {
  const { tier, config } = options;
  const keys = createRedisKeys(config.redis.keyPrefix);
  let worker: Worker<SubmissionJobData, JobResult> | undefined;
  const processor = createProcessor({
    ...options,
    keys,
    offline: new OfflineQueue(options.db),
    worker: () => worker!,
  });
  worker = new Worker<SubmissionJobData, JobResult>(keys.queueName(tier), processor, {
    connection: options.redis,
    prefix: keys.queuePrefix,
    concurrency: options.concurrency ?? 8,
    autorun: options.autorun ?? true,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: Math.min(30_000, options.lockDurationMs ?? 30_000),
    limiter: config.pace.max > 0 ? { max: config.pace.max, duration: config.pace.windowMs } : UNBOUNDED_PACE,
    settings: {
      backoffStrategy: (attemptsMade: number, type?: string) =>
        type === BACKOFF_STRATEGY ? backoffDelayMs(config.retry, attemptsMade) : 0,
    },
  });
  worker.on('failed', (job: Job<SubmissionJobData> | undefined) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) options.metrics?.submission(tier, 'failed');
  });
  worker.on('error', () => undefined);
  return worker;
}

import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { createRepeatGate, errorFields, type RedisConnection } from '@rekor-budget/core';
import { BACKOFF_STRATEGY, backoffDelayMs, type SubmissionJobData } from '@rekor-budget/queue';
import { createProcessor, type JobResult } from './processor';
import type { WorkerDeps } from './ports';

export interface TierWorkerOptions extends WorkerDeps {
  /**
   * Connection for the worker (BullMQ duplicates it for blocking reads); it
   * needs `maxRetriesPerRequest: null` (a `Cluster` on its node options), as
   * `createRedisConnection` makes for workers. @defaultValue runtime.redis
   */
  connection?: RedisConnection;
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

/** The same worker error is logged at most this often. */
const ERROR_REPEAT_MS = 30_000;

/** Without a configured pace, a limiter this high never binds; it lets 429s pause the queue. */
const UNBOUNDED_PACE = { max: 1_000_000, duration: 1000 };

/** A BullMQ worker for one tier's queue. */
export function createTierWorker(options: TierWorkerOptions): Worker<SubmissionJobData, JobResult> {
  const { tier, runtime } = options;
  const { config, keys, metrics } = runtime;
  const logger = runtime.logger.child({ component: 'worker', tier });
  const lockDuration = options.lockDurationMs ?? 30_000;
  // the processor reaches its worker (for `rateLimit`) only while jobs run, after construction
  const processor = createProcessor({ ...options, worker: () => worker });
  const worker: Worker<SubmissionJobData, JobResult> = new Worker<SubmissionJobData, JobResult>(
    keys.queueName(tier),
    processor,
    {
      connection: options.connection ?? runtime.redis,
      prefix: keys.queuePrefix(tier),
      concurrency: options.concurrency ?? 8,
      autorun: options.autorun ?? true,
      lockDuration,
      stalledInterval: Math.min(30_000, lockDuration),
      // A job stalls when its worker dies or Redis is away longer than its lock; its next
      // run is safe (content lock, one stored envelope, the receipt and log look-ups), so a
      // stall never fails it: BullMQ's default (1) would fail a job that stalled twice,
      // and nothing would log it.
      maxStalledCount: Number.MAX_SAFE_INTEGER,
      limiter:
        config.pace.max > 0 ? { max: config.pace.max, duration: config.pace.windowMs } : UNBOUNDED_PACE,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) =>
          type === BACKOFF_STRATEGY ? backoffDelayMs(config.retry, attemptsMade) : 0,
      },
    },
  );
  /** A job left the queue for good: the tenant's queued tally drops by one (status, estimates). */
  const left = (job: Job<SubmissionJobData>) => {
    const tenantId = job.data?.input?.tenantId;
    if (typeof tenantId !== 'string') return;
    runtime.lanes
      .count(tier, 'q', new Map([[tenantId, -1]]))
      .catch((e: unknown) => logger.debug({ jobId: job.id, ...errorFields(e) }, 'queued tally not updated'));
  };
  worker.on('completed', (job: Job<SubmissionJobData>) => left(job));
  worker.on('failed', (job: Job<SubmissionJobData> | undefined, err: Error) => {
    // an input refused for good (UnrecoverableError) is not tried again, whatever attempts are left
    const final =
      job !== undefined &&
      (job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError);
    if (final) {
      metrics.submission(tier, 'failed');
      left(job);
    }
    logger.warn(
      { jobId: job?.id, attemptsMade: job?.attemptsMade, final, ...errorFields(err) },
      final ? 'job failed for good' : 'job attempt failed; it will be retried',
    );
  });
  worker.on('stalled', (jobId: string) =>
    logger.warn(
      { jobId },
      'job stalled (its worker died, or lost Redis for longer than the lock); it runs again',
    ),
  );
  // BullMQ's loops fail every few milliseconds while Redis is away: one line per kind and 30 s
  const repeats = createRepeatGate(ERROR_REPEAT_MS);
  worker.on('error', (err) => {
    const verdict = repeats(String((err as { code?: unknown }).code ?? err.message));
    if (!verdict.pass) return;
    logger.error(
      { ...errorFields(err), ...(verdict.heldBack > 0 ? { repeatsHeldBack: verdict.heldBack } : {}) },
      'worker error (while Redis is away BullMQ reconnects by itself and jobs wait; the same error is logged at most every 30 s)',
    );
  });
  return worker;
}

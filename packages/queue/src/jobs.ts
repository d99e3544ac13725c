import type { JobsOptions } from 'bullmq';
import type { RekorConfig, Sha256Digest, SignedEnvelope, Submission, Tier } from '@rekor-budget/core';

/**
 * The job contract between the producer, the drain and the tier workers:
 * one BullMQ job per submission, its data, its options and its retry delays.
 */

/** BullMQ job name of every submission. */
export const SUBMISSION_JOB = 'submit';

/** Name of the custom backoff strategy the workers register. */
export const BACKOFF_STRATEGY = 'rekor';

/** The job id of a submission: tier and content digest, so the same content is one job. */
export function jobIdFor(tier: Tier, digest: Sha256Digest): string {
  return `${tier}-${digest.slice('sha256:'.length)}`;
}

/** Job data: the submission, plus when it first entered the system. */
export type SubmissionJobData = Submission & {
  /** Epoch ms of the first enqueue (kept across overflow and drain), for latency. */
  enqueuedAt: number;
  /** The signed DSSE envelope, saved before the first POST (sign once). */
  envelope?: SignedEnvelope;
  /**
   * How often the scheduler released the job from its parking lane (each
   * release is one wake). Absent on a job that never waited for budget.
   */
  wakes?: number;
};

/**
 * The job id of a parked submission the scheduler releases: its parking row's
 * id, unique per stay in the lane (a job parked again gets a new row id).
 * A release replayed after a crash adds nothing twice; a later release of
 * the same content never meets the finished job of an earlier one (BullMQ
 * keeps finished jobs and silently skips an add under an id it holds).
 */
export function releasedJobId(tier: Tier, digest: Sha256Digest, parkedRowId: string): string {
  return `${jobIdFor(tier, digest)}-p${parkedRowId}`;
}

/** The submission a job carries, without the fields the job adds. */
export function submissionOf(data: SubmissionJobData): Submission {
  const { enqueuedAt: _e, envelope: _v, wakes: _w, ...submission } = data;
  return submission;
}

/** Options of every submission job. */
export function submissionJobOptions(config: RekorConfig, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: config.retry.maxAttempts,
    backoff: { type: BACKOFF_STRATEGY },
    removeOnComplete: { age: 24 * 3600, count: 50_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/**
 * Retry delay before attempt `attemptsMade + 1`:
 * `initialDelay x multiplier^(attemptsMade - 1)`, at most `maxDelay`.
 */
export function backoffDelayMs(retry: RekorConfig['retry'], attemptsMade: number): number {
  const n = Math.max(1, attemptsMade);
  return Math.min(retry.maxDelayMs, Math.round(retry.initialDelayMs * retry.backoffMultiplier ** (n - 1)));
}

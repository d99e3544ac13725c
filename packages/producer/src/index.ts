export { createRekorProducer } from './producer';
export type {
  RekorProducer,
  RekorProducerOptions,
  ProducerMetrics,
  SubmitResult,
  SubmitStatus,
} from './producer';
export { ProducerError } from './error';
export type { ProducerErrorCode } from './error';
export { OfflineQueue } from './offline-queue';
export type { OfflineAddResult } from './offline-queue';
export { SUBMISSION_JOB, BACKOFF_STRATEGY, jobIdFor, submissionJobOptions, backoffDelayMs } from './jobs';
export type { SubmissionJobData } from './jobs';

export {
  SUBMISSION_JOB,
  BACKOFF_STRATEGY,
  jobIdFor,
  submissionOf,
  submissionJobOptions,
  backoffDelayMs,
} from './jobs';
export type { SubmissionJobData } from './jobs';

export { createTierQueues, BACKLOG_STATES, DEPTH_STATES } from './tier-queues';
export type { TierQueues, TierQueuesOptions } from './tier-queues';

export { OfflineQueue } from './offline-queue';
export type { OfflineAddResult, OfflineFilter, OfflineCount } from './offline-queue';

export { createReceiptStore } from './receipts';
export type { ReceiptStore, ListReceiptsOptions } from './receipts';

export { createContentLock } from './content-lock';
export type { ContentLock } from './content-lock';

export { createEnvelopeStore } from './envelopes';
export type { EnvelopeStore, EnvelopeKey } from './envelopes';

export { RejectedStore } from './rejected';
export type { Rejection, RejectedSubmission } from './rejected';

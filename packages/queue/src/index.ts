export {
  SUBMISSION_JOB,
  BACKOFF_STRATEGY,
  jobIdFor,
  releasedJobId,
  submissionOf,
  submissionJobOptions,
  backoffDelayMs,
} from './jobs';
export type { SubmissionJobData } from './jobs';

export { createTierQueues, BACKLOG_STATES, DEPTH_STATES } from './tier-queues';

export { contentPlaces } from './content-rows';
export type { ContentPlace } from './content-rows';
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

export { ParkingLot } from './parking';
export type { ParkedJob, LaneCount } from './parking';

export { createLanes } from './lanes';
export type { Lanes, LaneInfo, TenantTally, QueuedJobState } from './lanes';

export { createLease } from './lease';
export type { Lease } from './lease';

export { tenantWork, tenantsWithLanes } from './tenant-work';
export type { TenantWork } from './tenant-work';

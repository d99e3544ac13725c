/** Every metric name of rekor-budget, as exposed on `/metrics`. */
export const METRIC_NAMES = {
  submissionsTotal: 'attestor_rekor_submissions_total',
  submissionLatencySeconds: 'attestor_rekor_submission_latency_seconds',
  queueDepth: 'attestor_rekor_queue_depth',
  offlineQueueDepth: 'attestor_rekor_offline_queue_depth',
  rejectedDepth: 'attestor_rekor_rejected_depth',
  budgetRemaining: 'attestor_rekor_budget_remaining',
  budgetUtilization: 'attestor_rekor_budget_utilization',
  submissionsRejectedTotal: 'attestor_rekor_submissions_rejected_total',
  submissionErrorsTotal: 'attestor_rekor_submission_errors_total',
  edgeBundleTriggersTotal: 'attestor_rekor_edge_bundle_triggers_total',
  shardSwitchesTotal: 'attestor_rekor_shard_switches_total',
  rekorUp: 'attestor_rekor_up',
} as const;

export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

/** The label value used for any status or reason outside the known set. */
export const OTHER = 'other';

/**
 * How a submission ended, for `attestor_rekor_submissions_total{status}`:
 * `created` (new log entry), `duplicate` (already in the log, existing entry
 * fetched), `rejected` (refused by Rekor, not retried), `failed` (retries
 * exhausted), `offline` (kept in the offline queue: Rekor unreachable or
 * air-gapped site), `other`.
 */
export const SUBMISSION_STATUSES = ['created', 'duplicate', 'rejected', 'failed', 'offline', OTHER] as const;
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

/** Why a submission was refused, for now (budget, 429, a full backlog) or for good, for `..._rejected_total{reason}`. */
export const REJECTION_REASONS = [
  'budget_exceeded',
  'tier_disabled',
  'not_escalated',
  'invalid_input',
  'payload_too_large',
  'rate_limited',
  'queue_full',
  OTHER,
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/**
 * Why a request to Rekor failed, for `..._errors_total{reason}`: `unreachable`
 * (connection refused, DNS), `retryable` (5xx), `rate_limited` (429), `rejected` (400/413/422),
 * `frozen` (405 from a frozen v2 shard), `invalid_response` (a 2xx answer that
 * is not what the API describes), `timeout`, `timestamp` (the timestamp authority
 * failed: nothing was sent to the log), `other`.
 */
export const ERROR_REASONS = [
  'unreachable',
  'retryable',
  'rate_limited',
  'rejected',
  'frozen',
  'invalid_response',
  'timeout',
  'timestamp',
  OTHER,
] as const;
export type ErrorReason = (typeof ERROR_REASONS)[number];

/**
 * Buckets of `attestor_rekor_submission_latency_seconds`: from enqueue to
 * receipt, which spans well under a second (idle budget, healthy Rekor) to
 * hours (budget waits, offline queue).
 */
export const LATENCY_BUCKETS: readonly number[] = [
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600,
];

/** Default bound on the number of tenants exposed by the per-tenant gauges. */
export const DEFAULT_MAX_TENANT_SERIES = 500;

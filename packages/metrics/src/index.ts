export { RekorMetrics } from './rekor-metrics';
export type { RekorMetricsOptions } from './rekor-metrics';

export { SubmissionMetrics } from './submission-metrics';
export { QueueMetrics } from './queue-metrics';
export { BudgetMetrics, selectTenants } from './budget-metrics';
export { EdgeTriggerMetrics } from './edge-trigger-metrics';

export { ScrapeSource } from './sources';
export { metricsSources } from './tier-sources';
export type { MetricsSourceParts } from './tier-sources';
export type { MetricsSources, TenantBudget, SourceName, SourceErrorHandler } from './sources';

export {
  METRIC_NAMES,
  OTHER,
  SUBMISSION_STATUSES,
  REJECTION_REASONS,
  ERROR_REASONS,
  LATENCY_BUCKETS,
  DEFAULT_MAX_TENANT_SERIES,
} from './names';
export type { MetricName, SubmissionStatus, RejectionReason, ErrorReason } from './names';

export { tierLabel, statusLabel, rejectionLabel, errorLabel, triggerLabel, TRIGGER_LABELS } from './labels';
export type { TriggerLabel } from './labels';

export { startMetricsServer } from './server';
export type {
  MetricsServer,
  MetricsServerOptions,
  ReadinessChecks,
  CheckResult,
  ReadinessReport,
  MetricsAuth,
} from './server';

export { MetricsError } from './errors';
export type { MetricsErrorCode } from './errors';

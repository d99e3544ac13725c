import type { Tier } from '@rekor-budget/core';
import { TIERS } from '@rekor-budget/core';
import { Counter, Histogram, type Registry } from 'prom-client';
import { errorLabel, rejectionLabel, statusLabel, tierLabel } from './labels';
import { register } from './register';
import {
  ERROR_REASONS,
  METRIC_NAMES,
  REJECTION_REASONS,
  SUBMISSION_STATUSES,
  type ErrorReason,
  type RejectionReason,
  type SubmissionStatus,
} from './names';

/**
 * Submission outcomes, latency, refusals and Rekor errors. Every known
 * label combination starts at 0, so `rate()` and `increase()` see the first
 * event of each kind.
 */
export class SubmissionMetrics {
  private readonly submissions: Counter<'tier' | 'status'>;
  private readonly latency: Histogram<'tier'>;
  private readonly rejections: Counter<'tier' | 'reason'>;
  private readonly errors: Counter<'tier' | 'reason'>;

  constructor(registry: Registry, latencyBuckets: readonly number[]) {
    this.submissions = register(
      registry,
      METRIC_NAMES.submissionsTotal,
      () =>
        new Counter({
          name: METRIC_NAMES.submissionsTotal,
          help: 'Outcomes of job runs by tier: created, duplicate, rejected (refused for good: by Rekor, or its input by the worker), failed, offline (a run that kept it offline; the same submission counts again when logged).',
          labelNames: ['tier', 'status'] as const,
          registers: [registry],
        }),
    );
    this.latency = register(
      registry,
      METRIC_NAMES.submissionLatencySeconds,
      () =>
        new Histogram({
          name: METRIC_NAMES.submissionLatencySeconds,
          help: 'Time from enqueue to receipt of a submission, in seconds.',
          labelNames: ['tier'] as const,
          buckets: [...latencyBuckets],
          registers: [registry],
        }),
    );
    this.rejections = register(
      registry,
      METRIC_NAMES.submissionsRejectedTotal,
      () =>
        new Counter({
          name: METRIC_NAMES.submissionsRejectedTotal,
          help: 'Submissions refused for now or for good: by the budget, the input checks, the tier settings, or a Rekor 429; by tier and reason.',
          labelNames: ['tier', 'reason'] as const,
          registers: [registry],
        }),
    );
    this.errors = register(
      registry,
      METRIC_NAMES.submissionErrorsTotal,
      () =>
        new Counter({
          name: METRIC_NAMES.submissionErrorsTotal,
          help: 'Failed requests to Rekor, by tier and reason (unreachable, retryable, rate_limited, rejected, frozen, invalid_response, timeout, timestamp, other).',
          labelNames: ['tier', 'reason'] as const,
          registers: [registry],
        }),
    );
    for (const tier of TIERS) {
      for (const status of SUBMISSION_STATUSES) this.submissions.inc({ tier, status }, 0);
      for (const reason of REJECTION_REASONS) this.rejections.inc({ tier, reason }, 0);
      for (const reason of ERROR_REASONS) this.errors.inc({ tier, reason }, 0);
      this.latency.zero({ tier });
    }
  }

  /** Count one submission outcome; an unknown status counts as `other`. */
  submission(tier: Tier, status: SubmissionStatus | string): void {
    this.submissions.inc({ tier: tierLabel(tier), status: statusLabel(status) });
  }

  /**
   * Record the time from enqueue to receipt. Negative durations (clock skew
   * between hosts) count as 0; a value that is not a number is ignored.
   */
  latencySeconds(tier: Tier, seconds: number): void {
    const t = tierLabel(tier);
    if (typeof seconds !== 'number' || Number.isNaN(seconds)) return;
    this.latency.observe({ tier: t }, Math.max(0, seconds));
  }

  /** Record the latency of a submission enqueued at `enqueuedAt` and receipted at `receiptAt` (default now). */
  latencySince(tier: Tier, enqueuedAt: Date | number, receiptAt: Date | number = Date.now()): void {
    this.latencySeconds(tier, (Number(receiptAt) - Number(enqueuedAt)) / 1000);
  }

  /** Count one refusal; an unknown reason counts as `other`. */
  rejected(tier: Tier, reason: RejectionReason | string): void {
    this.rejections.inc({ tier: tierLabel(tier), reason: rejectionLabel(reason) });
  }

  /** Count one failed request to Rekor; an unknown reason counts as `other`. */
  error(tier: Tier, reason: ErrorReason | string): void {
    this.errors.inc({ tier: tierLabel(tier), reason: errorLabel(reason) });
  }
}

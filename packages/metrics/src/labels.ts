import { EDGE_TRIGGERS, isTier, type EdgeTrigger, type Tier } from '@rekor-budget/core';
import { MetricsError } from './errors';
import {
  ERROR_REASONS,
  OTHER,
  REJECTION_REASONS,
  SUBMISSION_STATUSES,
  type ErrorReason,
  type RejectionReason,
  type SubmissionStatus,
} from './names';

/**
 * Label values are checked before they reach a metric, so a bug cannot
 * create an unbounded number of series: a tier must be `graph` or `edge`;
 * any other status, reason or trigger is recorded as `other`.
 */
export function tierLabel(tier: unknown): Tier {
  if (isTier(tier)) return tier;
  throw new MetricsError('INVALID_LABEL', `tier ${JSON.stringify(tier)} is not one of graph, edge`);
}

function oneOf<T extends string>(allowed: readonly T[], value: unknown): T {
  return (allowed as readonly unknown[]).includes(value) ? (value as T) : (OTHER as T);
}

export const statusLabel = (v: unknown): SubmissionStatus => oneOf(SUBMISSION_STATUSES, v);
export const rejectionLabel = (v: unknown): RejectionReason => oneOf(REJECTION_REASONS, v);
export const errorLabel = (v: unknown): ErrorReason => oneOf(ERROR_REASONS, v);

/** Edge-bundle triggers are `cvss`, `policy_gate`, `manual`, else `other`. */
export const TRIGGER_LABELS = [...EDGE_TRIGGERS, OTHER] as const;
export type TriggerLabel = EdgeTrigger | typeof OTHER;
export const triggerLabel = (v: unknown): TriggerLabel => oneOf(TRIGGER_LABELS, v);

import { RekorBudgetError } from '@rekor-budget/core';

export type ProducerErrorCode =
  /** `rekor.enabled: false`: nothing is submitted. */
  | 'REKOR_DISABLED'
  /** A Tier 2 bundle while `tier: graph-only` or `edgeBundles.enabled: false`. */
  | 'TIER_DISABLED'
  /** A Tier 2 bundle that no configured trigger escalates. */
  | 'NOT_ESCALATED'
  /** The backlog is full (or Redis is away) and the offline queue is disabled or not configured. */
  | 'QUEUE_FULL'
  | 'REDIS_UNAVAILABLE'
  /** Redis did not answer in time (`redisTimeoutMs`); the submission went to the offline queue, or this is the cause of `REDIS_UNAVAILABLE`. */
  | 'REDIS_TIMEOUT'
  /** Redis could not take the submission and Postgres could not either: nothing was stored. */
  | 'OFFLINE_QUEUE_UNAVAILABLE'
  /** `submitMany`: a request of the batch was refused (`index`, `cause`); nothing of the batch was stored. */
  | 'INVALID_BATCH'
  | 'CLOSED';

export class ProducerError extends RekorBudgetError<ProducerErrorCode> {
  /** For `INVALID_BATCH`: the position of the refused request. */
  readonly index?: number;

  constructor(code: ProducerErrorCode, message: string, options?: { cause?: unknown; index?: number }) {
    super(code, message, options);
    if (options?.index !== undefined) this.index = options.index;
  }
}

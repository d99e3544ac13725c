import { RekorBudgetError } from '@rekor-budget/core';
import type { SubmitResult } from './producer';

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
  /**
   * `submitMany`: part of the batch was stored and part was not (`results`
   * has the answer of each stored request, `errors` the error of each other
   * one, by request position); submitting the batch again is safe.
   */
  | 'BATCH_INCOMPLETE'
  /**
   * A service failed part way through a submission, between two of its
   * steps: it may have been stored. Submitting it again is safe (a stored
   * one is answered duplicate). `cause` has the failure.
   */
  | 'SUBMIT_FAILED'
  | 'CLOSED';

export class ProducerError extends RekorBudgetError<ProducerErrorCode> {
  /** For `INVALID_BATCH`: the position of the refused request. */
  readonly index?: number;
  /** For `BATCH_INCOMPLETE`: per request position, its answer if it was stored. */
  readonly results?: (SubmitResult | undefined)[];
  /** For `BATCH_INCOMPLETE`: per request position, its error if it was not stored. */
  readonly errors?: unknown[];

  constructor(
    code: ProducerErrorCode,
    message: string,
    options?: {
      cause?: unknown;
      index?: number;
      results?: (SubmitResult | undefined)[];
      errors?: unknown[];
    },
  ) {
    super(code, message, options);
    if (options?.index !== undefined) this.index = options.index;
    if (options?.results !== undefined) this.results = options.results;
    if (options?.errors !== undefined) this.errors = options.errors;
  }
}

/** `e` itself when it is a ProducerError (or another typed error with a code), else `SUBMIT_FAILED` around it. */
export function submitFailure(e: unknown): unknown {
  if (e instanceof RekorBudgetError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new ProducerError(
    'SUBMIT_FAILED',
    `the submission failed part way (${message}); it may have been stored: submitting it again is safe, a stored one is answered duplicate`,
    { cause: e },
  );
}

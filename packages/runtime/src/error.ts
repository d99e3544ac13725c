import { RekorBudgetError } from '@rekor-budget/core';

/**
 * - `SERVICE_UNAVAILABLE`: Redis or Postgres did not answer at start (`service` names which).
 * - `REDIS_NOT_DURABLE`: Redis would lose acknowledged jobs on a restart or under memory
 *   pressure (no AOF, or an eviction policy), and `redis.requireDurable` is on.
 * - `INVALID_DOCUMENT`: `trustedRoot` or `signingConfig` cannot be read or is not one.
 */
export type RuntimeErrorCode = 'SERVICE_UNAVAILABLE' | 'REDIS_NOT_DURABLE' | 'INVALID_DOCUMENT';

export class RuntimeError extends RekorBudgetError<RuntimeErrorCode> {
  constructor(
    code: RuntimeErrorCode,
    readonly service: 'redis' | 'postgres' | 'rekor',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

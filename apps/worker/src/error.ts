import { RekorBudgetError } from '@rekor-budget/core';

/**
 * `SIGNING_KEY_MISSING`: no signing key configured. `INVALID_OPTION`: a worker
 * or scheduler option is out of range. `REDIS_TIMEOUT`: Redis did not take a
 * drain batch in time; its rows stay offline for the next pass.
 */
export type WorkerErrorCode = 'SIGNING_KEY_MISSING' | 'INVALID_OPTION' | 'REDIS_TIMEOUT';

export class RunError extends RekorBudgetError<WorkerErrorCode> {}

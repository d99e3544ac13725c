import { RekorBudgetError } from '@rekor-budget/core';

/** `SIGNING_KEY_MISSING`: no signing key configured. `INVALID_OPTION`: a worker or scheduler option is out of range. */
export type WorkerErrorCode = 'SIGNING_KEY_MISSING' | 'INVALID_OPTION';

export class RunError extends RekorBudgetError<WorkerErrorCode> {}

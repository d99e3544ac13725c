import { RekorBudgetError } from '@rekor-budget/core';

export type WorkerErrorCode = 'SIGNING_KEY_MISSING';

export class RunError extends RekorBudgetError<WorkerErrorCode> {}

import { RekorBudgetError } from '@rekor-budget/core';

/**
 * Why a budget or quota call was refused. Tenant ids that are not UUIDs are
 * refused by `@rekor-budget/core` with an `InputError` coded `INVALID_TENANT`.
 *
 * - `INVALID_TIER`: the tier is neither `graph` nor `edge`.
 * - `INVALID_UNIT_ID`: a refund named a unit id this package never hands out.
 * - `INVALID_JOB_ID`: a hold or a decision named something that is not a BullMQ job id.
 * - `INVALID_LIMITS`: a budget limit or window is not a positive whole number.
 * - `INVALID_CLOCK`: the clock returned something other than a whole, non-negative ms count.
 * - `BUDGET_UNAVAILABLE`: Redis did not run the budget script (see `cause`).
 * - `QUOTA_UNAVAILABLE`: Postgres did not take or give the quota row (see `cause`).
 */
export type BudgetErrorCode =
  | 'INVALID_TIER'
  | 'INVALID_UNIT_ID'
  | 'INVALID_JOB_ID'
  | 'INVALID_LIMITS'
  | 'INVALID_CLOCK'
  | 'BUDGET_UNAVAILABLE'
  | 'QUOTA_UNAVAILABLE';

/** An error of `@rekor-budget/budget`; branch on `code`. */
export class BudgetError extends RekorBudgetError<BudgetErrorCode> {}

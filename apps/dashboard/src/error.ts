import { RekorBudgetError } from '@rekor-budget/core';

export type DashboardErrorCode =
  /** No `DASHBOARD_USER`/`DASHBOARD_PASSWORD` and no `insecureLocal`. */
  | 'DASHBOARD_CREDENTIALS_MISSING'
  /** The port could not be bound (in use, no permission). */
  | 'DASHBOARD_LISTEN_FAILED';

/** The dashboard refused to start. */
export class DashboardError extends RekorBudgetError<DashboardErrorCode> {}

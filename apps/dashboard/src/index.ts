export { startDashboard, dashboardCredentials } from './server';
export type { DashboardOptions, RunningDashboard } from './server';

export { collectBudgetView, MAX_TENANTS, rankTenants, RECEIPTS_PER_TENANT } from './budget-view';
export type {
  BudgetView,
  BudgetViewSources,
  RankedTenant,
  TenantView,
  TierView,
  ReceiptView,
  TimestampAuthorityView,
} from './budget-view';

export { renderBudgetPage, relativeTime } from './budget-page';

export { DashboardError } from './error';
export type { DashboardErrorCode } from './error';

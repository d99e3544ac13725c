export { startDashboard } from './server';
export type { DashboardOptions, RunningDashboard } from './server';

export { collectBudgetView, MAX_TENANTS, MAX_DELAYED_SCAN, RECEIPTS_PER_TENANT } from './budget-view';
export type { BudgetView, BudgetViewSources, TenantView, TierView, ReceiptView } from './budget-view';

export { renderBudgetPage } from './budget-page';
export { probeRekor } from './probe';
export type { RekorReachability, RekorState } from './probe';

export { DashboardError } from './error';
export type { DashboardErrorCode } from './error';

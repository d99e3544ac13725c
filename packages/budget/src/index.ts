export { createBudget, slotTime, DEFAULT_HOLD_MS } from './budget';
export type { Budget, BudgetOptions, HoldResult } from './budget';

export { syncRedisClock } from './clock';
export type { RedisClock } from './clock';

export { createQuotaMirror } from './mirror';
export type { QuotaMirror, QuotaCounts } from './mirror';

export { BudgetError } from './error';
export type { BudgetErrorCode } from './error';

export { SCRIPT_NAMES, loadScript } from './scripts';
export type { ScriptName } from './scripts';

export type {
  BudgetDecision,
  BudgetAdmitted,
  BudgetRefused,
  BudgetStatus,
  BudgetLimits,
  Remaining,
  WindowStatus,
} from './types';

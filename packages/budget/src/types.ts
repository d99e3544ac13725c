import type { BudgetWindowName, RekorConfig, Tier } from '@rekor-budget/core';

/** The budget limits, as `RekorConfig['budget']` carries them. */
export type BudgetLimits = RekorConfig['budget'];

/** One rolling window of a tier, as seen at one instant. */
export interface WindowStatus {
  /** `hour` and `burst` for Tier 1 (`graph`), `day` for Tier 2 (`edge`). */
  name: BudgetWindowName;
  /** Length of the window (ms). */
  windowMs: number;
  /** Most units the window may hold. */
  limit: number;
  /** Units in the window (after the decision, so an admitted unit is counted). */
  used: number;
  /** `limit - used`, never below 0. */
  remaining: number;
}

/** Units left per window of the tier, keyed by window name. */
export type Remaining = Partial<Record<BudgetWindowName, number>>;

/** The budget admitted one unit; it is spent until refunded or it leaves its windows. */
export interface BudgetAdmitted {
  admitted: true;
  tier: Tier;
  /** Identifies the unit for `refund`: `<member>.<ms spent>`. Unique among the tenant's live units. */
  unitId: string;
  /** The clock reading (ms) the unit was stamped with. */
  atMs: number;
  remaining: Remaining;
  windows: WindowStatus[];
}

/** The budget refused: a window is full. Nothing was consumed. */
export interface BudgetRefused {
  admitted: false;
  tier: Tier;
  /** The clock reading (ms) of the decision. */
  atMs: number;
  /**
   * The instant (ms, budget clock) the oldest binding unit leaves its window:
   * with nothing else spent meanwhile, a try at `retryAtMs` is admitted and a
   * try at `retryAtMs - 1` is not. When several windows are full, the latest
   * of their instants.
   */
  retryAtMs: number;
  /** The window whose instant is `retryAtMs`. */
  binding: BudgetWindowName;
  remaining: Remaining;
  windows: WindowStatus[];
}

/** The outcome of `tryConsume`. */
export type BudgetDecision = BudgetAdmitted | BudgetRefused;

/** A tenant's budget for one tier at one instant, from `peek`. */
export interface BudgetStatus {
  tier: Tier;
  /** The clock reading (ms) the status is for. */
  atMs: number;
  /** Whether a `tryConsume` now would be admitted. */
  admissible: boolean;
  /** When `admissible` is false: as `BudgetRefused.retryAtMs`. */
  retryAtMs: number | null;
  binding: BudgetWindowName | null;
  /** Units promised to released jobs (live holds); they count as used. */
  held: number;
  /** Units that fit now in every window of the tier, besides the holds. */
  free: number;
  remaining: Remaining;
  windows: WindowStatus[];
}

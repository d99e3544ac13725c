import { TIERS, type Tier } from '@rekor-budget/core';
import { tenantsWithLanes, tenantWork } from '@rekor-budget/queue';
import type { WindowStatus } from '@rekor-budget/budget';
import type { RekorReachability, Runtime } from '@rekor-budget/runtime';

/** Tenants shown at most, most recently active first. */
export const MAX_TENANTS = 200;
/** Receipts shown per tenant, newest first. */
export const RECEIPTS_PER_TENANT = 5;

/** One tier of one tenant. */
export interface TierView {
  tier: Tier;
  /** Windows of the tier: `hour` and `burst` for graph, `day` for edge. */
  windows: WindowStatus[];
  /** ISO time of the next admissible submission, or `now`. */
  nextFreeSlot: string;
  /** Jobs of the tenant in the tier queue (waiting, delayed or running). */
  queuedJobs: number;
  /** Jobs of the tenant parked for budget, in the order they will be released. */
  parkedJobs: number;
  /** ISO time the scheduler next releases parked jobs of the tenant, or `null` without any. */
  nextRelease: string | null;
}

export interface ReceiptView {
  tier: Tier;
  logIndex: number;
  uuid: string;
  integratedTime: string;
  contentDigest: string;
}

export interface TenantView {
  tenantId: string;
  tiers: TierView[];
  /** Rows of the tenant in the offline queue. */
  offlineRows: number;
  /** Submissions of the tenant Rekor refused for good, waiting for an operator. */
  rejected: number;
  /** The newest receipts, with their log index. */
  receipts: ReceiptView[];
}

/** Everything `/budgets` and `/budgets.json` show. */
export interface BudgetView {
  generatedAt: string;
  rekor: RekorReachability;
  /** Active tenants (last 24 h, or with parked jobs), before the cap of `MAX_TENANTS`. */
  activeTenants: number;
  tenants: TenantView[];
}

/** What the budget view reads: the dashboard process's runtime. */
export type BudgetViewSources = Pick<
  Runtime,
  'budget' | 'offline' | 'rejected' | 'receipts' | 'clock' | 'probeRekor' | 'lanes' | 'parking'
>;

/** Reads the budget, queues, offline queue and receipts of every active tenant. */
export async function collectBudgetView(s: BudgetViewSources): Promise<BudgetView> {
  const rekorPromise: Promise<RekorReachability> = s.probeRekor();
  const active = await s.budget.activeTenants();
  const all = [...new Set([...active, ...(await tenantsWithLanes(s.lanes, TIERS))])];
  const tenants = all.slice(0, MAX_TENANTS);
  const [work, offline, rejected] = await Promise.all([
    Promise.all(TIERS.map((t) => tenantWork(s, t, tenants))),
    s.offline.countByTenant(tenants),
    s.rejected.countByTenant(tenants),
  ]);
  const workOf = Object.fromEntries(TIERS.map((t, i) => [t, work[i]!])) as Record<
    Tier,
    Awaited<ReturnType<typeof tenantWork>>
  >;
  const views = await Promise.all(
    tenants.map(async (tenantId): Promise<TenantView> => {
      const key = tenantId.toLowerCase();
      const [statuses, receipts] = await Promise.all([
        Promise.all(TIERS.map((t) => s.budget.peek(tenantId, t))),
        s.receipts.list({ tenantId, limit: RECEIPTS_PER_TENANT }),
      ]);
      return {
        tenantId,
        tiers: statuses.map((st) => ({
          tier: st.tier,
          windows: st.windows,
          nextFreeSlot: st.admissible || st.retryAtMs === null ? 'now' : new Date(st.retryAtMs).toISOString(),
          queuedJobs: workOf[st.tier].get(key)?.queued ?? 0,
          parkedJobs: workOf[st.tier].get(key)?.parked ?? 0,
          nextRelease: ((at) => (at === null || at === undefined ? null : new Date(at).toISOString()))(
            workOf[st.tier].get(key)?.nextReleaseAt,
          ),
        })),
        offlineRows: offline.get(key) ?? 0,
        rejected: rejected.get(key) ?? 0,
        receipts: receipts.map((r) => ({
          tier: r.tier,
          logIndex: r.logIndex,
          uuid: r.uuid,
          integratedTime: r.integratedTime.toISOString(),
          contentDigest: r.contentDigest,
        })),
      };
    }),
  );
  return {
    generatedAt: new Date(s.clock()).toISOString(),
    rekor: await rekorPromise,
    activeTenants: all.length,
    tenants: views,
  };
}

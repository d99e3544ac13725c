import { TIERS, type Tier } from '@rekor-budget/core';
import { tenantsWithLanes, tenantWork } from '@rekor-budget/queue';
import type { BudgetStatus, WindowStatus } from '@rekor-budget/budget';
import type { RekorReachability, Runtime } from '@rekor-budget/runtime';

/** Tenants shown at most, the fullest first. */
export const MAX_TENANTS = 200;
/** Budget look-ups run side by side while ranking tenants. */
const PEEKS_SIDE_BY_SIDE = 64;
/** Receipts shown per tenant, newest first. */
export const RECEIPTS_PER_TENANT = 5;

/** One tier of one tenant. */
export interface TierView {
  tier: Tier;
  /** Windows of the tier: `hour` and `burst` for graph, `day` for edge. */
  windows: WindowStatus[];
  /** ISO time of the next admissible submission, or `now`. */
  nextFreeSlot: string;
  /** The fullest window's use, 0..1. */
  utilization: number;
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
  /** The log that holds it (without credentials). */
  logUrl: string;
  /** The entry in the log (Rekor v1 `GET /api/v1/log/entries/{uuid}`); absent for v2 logs, which have none. */
  entryUrl?: string;
  /** This dashboard's path of the receipt's sigstore bundle, relative to `/budgets`. */
  bundlePath: string;
}

export interface TenantView {
  tenantId: string;
  /** The display name from the configuration's `tenants:` map, if it has one. */
  name?: string;
  /** The fullest window of any tier, 0..1: tenants are listed fullest first. */
  utilization: number;
  tiers: TierView[];
  /** Rows of the tenant in the offline queue. */
  offlineRows: number;
  /** Submissions of the tenant Rekor refused for good, waiting for an operator. */
  rejected: number;
  /** The newest receipts, with their log index. */
  receipts: ReceiptView[];
}

/** Everything `/budgets` and `/budgets.json` show. */
/** The timestamp authority Rekor v2 entries need, as the page's probe found it. */
export interface TimestampAuthorityView {
  /** Its endpoint, without credentials. */
  url: string;
  /** It granted the probe's timestamp. */
  reachable: boolean;
  /** `granted`, or why not (`HTTP 503`, `ECONNREFUSED`, ...). */
  detail: string;
  latencyMs: number;
}

export interface BudgetView {
  generatedAt: string;
  rekor: RekorReachability;
  /**
   * Present when a timestamp authority is configured (and the site is not
   * air-gapped): while it grants none, submissions that need one wait in the
   * offline queue (reason `timestamp_unavailable`).
   */
  timestampAuthority?: TimestampAuthorityView;
  /** Active tenants (last 24 h, or with parked jobs), before the cap of `MAX_TENANTS`. */
  activeTenants: number;
  tenants: TenantView[];
}

/** What the budget view reads: the dashboard process's runtime. */
export type BudgetViewSources = Pick<
  Runtime,
  | 'budget'
  | 'offline'
  | 'rejected'
  | 'receipts'
  | 'clock'
  | 'probeRekor'
  | 'probeTimestampAuthority'
  | 'lanes'
  | 'parking'
> & { config: Pick<Runtime['config'], 'tenants' | 'apiVersion' | 'offline'> };

/** A URL without its credentials, for a link on a page. */
function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** The fullest window's use, 0..1. */
function fullest(windows: readonly WindowStatus[]): number {
  return Math.max(0, ...windows.map((w) => (w.limit > 0 ? Math.min(1, w.used / w.limit) : 1)));
}

/** A tenant with its budget in every tier, as `rankTenants` orders them. */
export interface RankedTenant {
  tenantId: string;
  /** The display name from the configuration's `tenants:` map, if it has one. */
  name?: string;
  /** One per tier, in `TIERS` order. */
  statuses: BudgetStatus[];
  /** The fullest window of any tier, 0..1. */
  utilization: number;
}

/**
 * Every tenant active in the last 24 h or with parked work, with its budget
 * in every tier, the fullest first (then by name): the tenant about to wait
 * is the one to look at. Ranked over all of them before any cap, so a full
 * tenant is never left out for a more recent one. Shared by `status` and the
 * dashboard.
 */
export async function rankTenants(
  s: Pick<Runtime, 'budget' | 'lanes'> & { config: Pick<Runtime['config'], 'tenants'> },
): Promise<RankedTenant[]> {
  const ids = [
    ...new Set([...(await s.budget.activeTenants()), ...(await tenantsWithLanes(s.lanes, TIERS))]),
  ];
  const ranked: RankedTenant[] = new Array(ids.length);
  let next = 0;
  const peekNext = async () => {
    while (next < ids.length) {
      const i = next++;
      const tenantId = ids[i]!;
      const statuses = await Promise.all(TIERS.map((t) => s.budget.peek(tenantId, t)));
      const name = s.config.tenants[tenantId.toLowerCase()];
      ranked[i] = {
        tenantId,
        ...(name === undefined ? {} : { name }),
        statuses,
        utilization: Math.max(0, ...statuses.map((st) => fullest(st.windows))),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(PEEKS_SIDE_BY_SIDE, ids.length) }, peekNext));
  return ranked.sort(
    (a, b) => b.utilization - a.utilization || (a.name ?? a.tenantId).localeCompare(b.name ?? b.tenantId),
  );
}

/** Where this dashboard serves a receipt's bundle (relative to `/budgets`). */
export function receiptBundlePath(contentDigest: string, logUrl: string): string {
  return `receipts/${encodeURIComponent(contentDigest)}/bundle.json?log=${encodeURIComponent(logUrl)}`;
}

/** Reads the budget, queues, offline queue and receipts of every active tenant. */
export async function collectBudgetView(s: BudgetViewSources): Promise<BudgetView> {
  const rekorPromise: Promise<RekorReachability> = s.probeRekor();
  // asked side by side with Rekor, like `status` does; undefined when none is configured
  const tsaPromise = s.config.offline.airGapped ? undefined : s.probeTimestampAuthority();
  const all = await rankTenants(s);
  const shown = all.slice(0, MAX_TENANTS);
  const tenants = shown.map((t) => t.tenantId);
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
    shown.map(async ({ tenantId, name, statuses, utilization }): Promise<TenantView> => {
      const key = tenantId.toLowerCase();
      const receipts = await s.receipts.list({ tenantId, limit: RECEIPTS_PER_TENANT });
      const tiers = statuses.map((st) => ({
        tier: st.tier,
        windows: st.windows,
        nextFreeSlot: st.admissible || st.retryAtMs === null ? 'now' : new Date(st.retryAtMs).toISOString(),
        utilization: fullest(st.windows),
        queuedJobs: workOf[st.tier].get(key)?.queued ?? 0,
        parkedJobs: workOf[st.tier].get(key)?.parked ?? 0,
        nextRelease: ((at) => (at === null || at === undefined ? null : new Date(at).toISOString()))(
          workOf[st.tier].get(key)?.nextReleaseAt,
        ),
      }));
      return {
        tenantId,
        ...(name === undefined ? {} : { name }),
        utilization,
        tiers,
        offlineRows: offline.get(key) ?? 0,
        rejected: rejected.get(key) ?? 0,
        receipts: receipts.map((r) => {
          const logUrl = withoutCredentials(r.logUrl);
          return {
            tier: r.tier,
            logIndex: r.logIndex,
            uuid: r.uuid,
            integratedTime: r.integratedTime.toISOString(),
            contentDigest: r.contentDigest,
            logUrl,
            ...(s.config.apiVersion === 1
              ? { entryUrl: `${logUrl}/api/v1/log/entries/${encodeURIComponent(r.uuid)}` }
              : {}),
            bundlePath: receiptBundlePath(r.contentDigest, r.logUrl),
          };
        }),
      };
    }),
  );
  const tsaProbe = await tsaPromise;
  const tsa: TimestampAuthorityView | undefined = tsaProbe && {
    url: tsaProbe.url,
    reachable: tsaProbe.reachable,
    detail: tsaProbe.detail,
    latencyMs: tsaProbe.latencyMs,
  };
  return {
    generatedAt: new Date(s.clock()).toISOString(),
    rekor: await rekorPromise,
    ...(tsa ? { timestampAuthority: tsa } : {}),
    activeTenants: all.length,
    // in rankTenants' order: the fullest first
    tenants: views,
  };
}

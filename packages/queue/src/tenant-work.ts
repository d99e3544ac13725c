import type { Tier } from '@rekor-budget/core';
import type { Lanes } from './lanes';
import type { ParkingLot } from './parking';

/** A tenant's work in one tier, as `status` and the dashboard show it. */
export interface TenantWork {
  /** Jobs in the tier queue (the Redis tally: waiting, delayed or running). */
  queued: number;
  /** Jobs parked for budget in Postgres (exact). */
  parked: number;
  /** When the scheduler looks at the tenant's lane next (ms, budget clock); `null` without parked jobs. */
  nextReleaseAt: number | null;
}

/**
 * Queued, parked and next release time of each tenant in a tier: the one
 * reading of the scheduler's state that the CLI and the dashboard share.
 */
export async function tenantWork(
  parts: { lanes: Lanes; parking: ParkingLot },
  tier: Tier,
  tenantIds: readonly string[],
): Promise<Map<string, TenantWork>> {
  const ids = tenantIds.map((t) => t.toLowerCase());
  const [tallies, parked, lanes] = await Promise.all([
    parts.lanes.tallies(tier, ids),
    parts.parking.countByTenant(tier, ids),
    parts.lanes.list(tier),
  ]);
  const due = new Map(lanes.map((l) => [l.tenantId, l.nextCheckAt]));
  const out = new Map<string, TenantWork>();
  for (const t of ids) {
    const p = parked.get(t) ?? 0;
    out.set(t, {
      queued: tallies.get(t)?.queued ?? 0,
      parked: p,
      nextReleaseAt: p > 0 ? (due.get(t) ?? null) : null,
    });
  }
  return out;
}

/** Tenants with parked work in any of the tiers (for views that list tenants). */
export async function tenantsWithLanes(lanes: Lanes, tiers: readonly Tier[]): Promise<string[]> {
  const all = await Promise.all(tiers.map((t) => lanes.list(t)));
  return [...new Set(all.flat().map((l) => l.tenantId))];
}

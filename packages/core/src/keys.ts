import type { Tier } from './domain';
import { isTenantId } from './domain';
import { InputError } from './errors';

/**
 * The one place that builds Redis key names.
 *
 * Every key of one tenant carries the tenant id as a hash tag (`{<uuid>}`),
 * so a Lua script that touches several keys of one tenant stays in one
 * Redis Cluster slot. BullMQ's keys get their own hash tag through the
 * queue prefix, as BullMQ recommends for Cluster.
 */
export interface RedisKeys {
  readonly prefix: string;
  /** BullMQ `prefix` option for the tier queues. */
  readonly queuePrefix: string;
  /** BullMQ queue name of a tier. */
  queueName(tier: Tier): string;
  /** Sorted set of units spent in the rolling window `window` (`hour`, `burst`, `day`). Before the scheduler; kept for tooling. */
  budgetWindow(tenantId: string, window: BudgetWindowName): string;
  /**
   * Sorted set of the tenant's units of a tier (small integer member -> ms spent),
   * read by every window of the tier.
   */
  budgetUnits(tenantId: string, tier: Tier): string;
  /** Sorted set of units promised to released jobs (job id -> hold expiry, ms). */
  budgetHolds(tenantId: string, tier: Tier): string;
  /** Sorted set of tenants with parked work in a tier (tenant id -> next release check, ms). */
  schedulerLanes(tier: Tier): string;
  /** Hash of per-tenant tallies of a tier: `q:<tenant>` jobs in the queue, `p:<tenant>` jobs parked. */
  schedulerTally(tier: Tier): string;
  /** Held by the one process that releases parked jobs of a tier. */
  schedulerLeader(tier: Tier): string;
  /** Sorted set of tenants by last activity, for the status and metrics views. */
  readonly activeTenants: string;
  /** Shared "Rekor offline" state, read by every worker before a POST. */
  readonly rekorState: string;
  /** Held while one job submits a content digest, so no other job submits it too. */
  inflight(contentDigest: string): string;
}

export type BudgetWindowName = 'hour' | 'burst' | 'day';

export function createRedisKeys(prefix: string): RedisKeys {
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) {
    throw new InputError(
      'INVALID_INPUT',
      'keyPrefix',
      `${JSON.stringify(prefix)} is not a key prefix; use 1-64 letters, digits and - _ . : (no braces)`,
    );
  }
  return {
    prefix,
    queuePrefix: `{${prefix}}`,
    queueName: (tier) => `rekor-${tier}`,
    budgetWindow: (tenantId, window) => `${prefix}:budget:{${checkTenant(tenantId)}}:${window}`,
    budgetUnits: (tenantId, tier) => `${prefix}:budget:{${checkTenant(tenantId)}}:${tier}`,
    budgetHolds: (tenantId, tier) => `${prefix}:budget:{${checkTenant(tenantId)}}:${tier}:holds`,
    schedulerLanes: (tier) => `${prefix}:sched:${tier}:lanes`,
    schedulerTally: (tier) => `${prefix}:sched:${tier}:tally`,
    schedulerLeader: (tier) => `${prefix}:sched:${tier}:leader`,
    activeTenants: `${prefix}:tenants:active`,
    rekorState: `${prefix}:rekor:state`,
    inflight: (contentDigest) => `${prefix}:inflight:${contentDigest.replace(/^sha256:/, '')}`,
  };
}

function checkTenant(tenantId: string): string {
  if (!isTenantId(tenantId)) {
    throw new InputError(
      'INVALID_TENANT',
      'tenantId',
      `${JSON.stringify(tenantId)} is not a UUID; pass the tenant's UUID, e.g. "3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b"`,
    );
  }
  return tenantId.toLowerCase();
}

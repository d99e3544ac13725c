import type { RedisTopology } from './config/redis-topology';
import type { Tier } from './domain';
import { isTenantId, TIERS } from './domain';
import { InputError } from './errors';

/**
 * The one place that builds Redis key names.
 *
 * Redis Cluster hashes only the first `{...}` of a key (its hash tag), and a
 * Lua script or MULTI may touch keys of one slot only. So:
 *
 * - every key of one tenant carries the tenant id as its hash tag
 *   (`{<uuid>}`): a budget script over a tenant's windows stays in one slot,
 *   and tenants spread over the shards;
 * - BullMQ's keys get their hash tag through the queue prefix. In a cluster
 *   each tier queue has its own (`{<prefix>:graph}`, `{<prefix>:edge}`), so the
 *   two queues may live on different shards. On a single Redis and on Sentinel
 *   both queues keep the one tag they always had (`{<prefix>}`): changing it
 *   would leave the jobs of a running deployment under keys no worker reads
 *   (see packages/queue/README.md, "Key layout").
 * - the scheduler's keys of a tier (lanes, tallies, the release lease, its signal) share
 *   one tag, `{<prefix>:<tier>}`, the tier queue's own in a cluster: the lane
 *   scripts touch lanes and tallies together;
 * - shared keys (active tenants, the Rekor state, the per-content locks) carry
 *   no tag and are only ever touched one key per command.
 */
export interface RedisKeys {
  readonly prefix: string;
  /** The topology the layout is for. */
  readonly topology: RedisTopology;
  /** BullMQ `prefix` option of a tier queue. */
  queuePrefix(tier: Tier): string;
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
  /**
   * List of at most one item, pushed when a lane becomes due earlier than the
   * scheduler may know (a new lane, a unit given back); the idle leader blocks on it.
   */
  schedulerSignal(tier: Tier): string;
  /** Sorted set of tenants by last activity, for the status and metrics views. */
  readonly activeTenants: string;
  /** Shared "Rekor offline" state, read by every worker before a POST. */
  readonly rekorState: string;
  /** Held while one job submits a content digest, so no other job submits it too. */
  inflight(contentDigest: string): string;
  /** SCAN patterns that together match every key under this prefix, in every layout, and no other. */
  readonly scanPatterns: readonly string[];
}

export type BudgetWindowName = 'hour' | 'burst' | 'day';

export interface RedisKeysOptions {
  /** Where the keys live: `cluster` gives each tier queue its own hash tag. @defaultValue 'single' */
  topology?: RedisTopology;
}

export function createRedisKeys(prefix: string, options: RedisKeysOptions = {}): RedisKeys {
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) {
    throw new InputError(
      'INVALID_INPUT',
      'keyPrefix',
      `${JSON.stringify(prefix)} is not a key prefix; use 1-64 letters, digits and - _ . : (no braces)`,
    );
  }
  const topology = options.topology ?? 'single';
  return {
    prefix,
    topology,
    queuePrefix: (tier) => (topology === 'cluster' ? `{${prefix}:${checkTier(tier)}}` : `{${prefix}}`),
    queueName: (tier) => `rekor-${tier}`,
    budgetWindow: (tenantId, window) => `${prefix}:budget:{${checkTenant(tenantId)}}:${window}`,
    budgetUnits: (tenantId, tier) => `${prefix}:budget:{${checkTenant(tenantId)}}:${tier}`,
    budgetHolds: (tenantId, tier) => `${prefix}:budget:{${checkTenant(tenantId)}}:${tier}:holds`,
    // the lane scripts touch lanes and tallies together: one tag per tier, the tier queue's own
    schedulerLanes: (tier) => `${prefix}:sched:{${prefix}:${checkTier(tier)}}:lanes`,
    schedulerTally: (tier) => `${prefix}:sched:{${prefix}:${checkTier(tier)}}:tally`,
    schedulerLeader: (tier) => `${prefix}:sched:{${prefix}:${checkTier(tier)}}:leader`,
    schedulerSignal: (tier) => `${prefix}:sched:{${prefix}:${checkTier(tier)}}:signal`,
    activeTenants: `${prefix}:tenants:active`,
    rekorState: `${prefix}:rekor:state`,
    inflight: (contentDigest) => `${prefix}:inflight:${contentDigest.replace(/^sha256:/, '')}`,
    scanPatterns: [`${prefix}:*`, `{${prefix}}:*`, ...TIERS.map((t) => `{${prefix}:${t}}:*`)],
  };
}

function checkTier(tier: Tier): Tier {
  if (!TIERS.includes(tier)) {
    throw new InputError(
      'INVALID_INPUT',
      'tier',
      `${JSON.stringify(tier)} is not a tier; use "graph" or "edge"`,
    );
  }
  return tier;
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

import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { defineLuaScripts, type RedisKeys, type Tier } from '@rekor-budget/core';

const SCRIPTS = ['lane-mark', 'lane-drop', 'lane-wake', 'tally'] as const;

/** A job of the tier queue: none, waiting (waiting, delayed or running), or finished (completed or failed). */
export type QueuedJobState = 'none' | 'live' | 'finished';

/** A tenant's work in one tier, as the Redis tallies count it. */
export interface TenantTally {
  /** Jobs of the tenant in the tier queue (waiting, delayed or running). */
  queued: number;
  /** Jobs of the tenant parked in Postgres. */
  parked: number;
}

/** A lane with parked work. */
export interface LaneInfo {
  tenantId: string;
  /** When the scheduler looks at the lane next (ms, budget clock). */
  nextCheckAt: number;
}

/**
 * The scheduler's small summary in Redis, bounded by the tenants with work
 * (never by the backlog): per tier, a sorted set of lanes (tenants with
 * parked jobs, by when the scheduler looks at them next) and a hash of
 * per-tenant tallies (`q:` queued, `p:` parked, `v:` lane version).
 * The parked rows themselves live in Postgres (`ParkingLot`).
 */
export interface Lanes {
  /** Records `parked` jobs parked in the tenant's lane; a new lane is due at `dueAt`. */
  mark(tier: Tier, tenantId: string, dueAt: number, parked: number): Promise<void>;
  /** The lane's version, read before looking for its rows (see `drop`). */
  version(tier: Tier, tenantId: string): Promise<string>;
  /** Drops a lane found empty, unless marked since `version`; `true` when dropped. */
  drop(tier: Tier, tenantId: string, version: string): Promise<boolean>;
  /** Sets when the scheduler looks at an existing lane next. */
  reschedule(tier: Tier, tenantId: string, at: number): Promise<void>;
  /**
   * Brings an existing lane's next look forward to `at` if it is later (a
   * unit came back: the lane need not sleep until its window frees); a lane
   * due earlier, or no lane, is left as it is. A lane brought forward, like a
   * new lane (`mark`), signals the scheduler (`awaitSignal`).
   */
  wake(tier: Tier, tenantId: string, at: number): Promise<void>;
  /**
   * Blocks on `blocking` (a connection of its own: it waits there) until a
   * lane was marked or woken since the last signal was taken, or `timeoutMs`
   * passed; `true` when signalled.
   */
  awaitSignal(blocking: Redis | Cluster, tier: Tier, timeoutMs: number): Promise<boolean>;
  /** Up to `limit` lanes due at `now`, the longest due first. */
  due(tier: Tier, now: number, limit: number): Promise<string[]>;
  /** When the earliest lane is due, or `undefined` without lanes. */
  nextDue(tier: Tier): Promise<number | undefined>;
  /** Every lane of the tier (at most `limit`), earliest first. */
  list(tier: Tier, limit?: number): Promise<LaneInfo[]>;
  /** Adds to the queued (`q`) or parked (`p`) tallies of tenants. */
  count(tier: Tier, field: 'q' | 'p', deltas: ReadonlyMap<string, number>): Promise<void>;
  /** The tallies of the given tenants. */
  tallies(tier: Tier, tenantIds: readonly string[]): Promise<Map<string, TenantTally>>;
  /**
   * The producer's read before it queues a batch: the tallies of the given
   * tenants and the state of each job, given by its hash key in the tier
   * queue (`Queue.toKey`). One round trip of two commands when none of the
   * jobs exists (new contents); a second, one look per job, when some do.
   */
  batchState(
    tier: Tier,
    tenantIds: readonly string[],
    jobKeys: readonly string[],
  ): Promise<{ tallies: Map<string, TenantTally>; states: QueuedJobState[] }>;
}

export function createLanes(redis: Redis | Cluster, keys: RedisKeys): Lanes {
  const script = defineLuaScripts(redis, {
    dir: join(__dirname, 'scripts'),
    names: SCRIPTS,
    commandPrefix: 'rekorQueue',
  });
  const lk = (tier: Tier) => [
    keys.schedulerLanes(tier),
    keys.schedulerTally(tier),
    keys.schedulerSignal(tier),
  ];
  const id = (tenantId: string) => tenantId.toLowerCase();
  return {
    async mark(tier, tenantId, dueAt, parked) {
      await script('lane-mark')(lk(tier), [id(tenantId), Math.floor(dueAt), parked]);
    },
    async version(tier, tenantId) {
      return (await redis.hget(keys.schedulerTally(tier), `v:${id(tenantId)}`)) ?? '';
    },
    async drop(tier, tenantId, version) {
      return (await script('lane-drop')(lk(tier), [id(tenantId), version])) === 1;
    },
    async reschedule(tier, tenantId, at) {
      await redis.zadd(keys.schedulerLanes(tier), 'XX', Math.floor(at), id(tenantId));
    },
    async wake(tier, tenantId, at) {
      await script('lane-wake')(lk(tier), [id(tenantId), Math.floor(at)]);
    },
    async awaitSignal(blocking, tier, timeoutMs) {
      // BLPOP takes seconds (with decimals); 0 would block for ever
      const seconds = Math.max(0.001, timeoutMs / 1000).toFixed(3);
      return (await blocking.blpop(keys.schedulerSignal(tier), seconds)) !== null;
    },
    async due(tier, now, limit) {
      return redis.zrangebyscore(keys.schedulerLanes(tier), '-inf', Math.floor(now), 'LIMIT', 0, limit);
    },
    async nextDue(tier) {
      const r = await redis.zrange(keys.schedulerLanes(tier), 0, 0, 'WITHSCORES');
      return r.length === 2 ? Number(r[1]) : undefined;
    },
    async list(tier, limit = 10_000) {
      const r = await redis.zrange(keys.schedulerLanes(tier), 0, limit - 1, 'WITHSCORES');
      const out: LaneInfo[] = [];
      for (let i = 0; i < r.length; i += 2) out.push({ tenantId: r[i]!, nextCheckAt: Number(r[i + 1]) });
      return out;
    },
    async count(tier, field, deltas) {
      const args: (string | number)[] = [];
      for (const [tenantId, n] of deltas) if (n !== 0) args.push(`${field}:${id(tenantId)}`, n);
      if (args.length === 0) return;
      const key = keys.schedulerTally(tier);
      // one tally up: one command. Several (all or none, so a caller's undo after a
      // refused call never meets half a count) or one down (0 is removed, so the
      // hash holds only tenants with work): the script
      if (args.length === 2 && (args[1] as number) > 0) {
        await redis.hincrby(key, args[0] as string, args[1] as number);
      } else {
        await script('tally')([key], args);
      }
    },
    async tallies(tier, tenantIds) {
      const out = new Map<string, TenantTally>();
      if (tenantIds.length === 0) return out;
      const fields = tenantIds.flatMap((t) => [`q:${id(t)}`, `p:${id(t)}`]);
      const values = await redis.hmget(keys.schedulerTally(tier), ...fields);
      tenantIds.forEach((t, i) => {
        out.set(id(t), {
          queued: Math.max(0, Number(values[2 * i] ?? 0)),
          parked: Math.max(0, Number(values[2 * i + 1] ?? 0)),
        });
      });
      return out;
    },
    async batchState(tier, tenantIds, jobKeys) {
      // read-only commands (not a script: they answer while Redis pauses writes, and
      // Redis 6.2 has no read-only scripts), sent together: one round trip, and no
      // pipeline object (ioredis copies every defined script onto each one)
      const ids = tenantIds.map(id);
      const values = await Promise.all([
        ...(ids.length > 0
          ? [redis.hmget(keys.schedulerTally(tier), ...ids.flatMap((t) => [`q:${t}`, `p:${t}`]))]
          : []),
        // how many of the jobs exist, in one command: nearly always none (new contents),
        // and then no job needs a look of its own
        ...(jobKeys.length > 0 ? [redis.exists(...jobKeys)] : []),
      ]);
      const tallies = new Map<string, TenantTally>();
      if (ids.length > 0) {
        const flat = values.shift() as (string | null)[];
        ids.forEach((t, i) =>
          tallies.set(t, {
            queued: Math.max(0, Number(flat[2 * i] ?? 0)),
            parked: Math.max(0, Number(flat[2 * i + 1] ?? 0)),
          }),
        );
      }
      if (jobKeys.length === 0 || Number(values[0]) === 0) {
        return { tallies, states: jobKeys.map((): QueuedJobState => 'none') };
      }
      const looks = redis.pipeline();
      for (const key of jobKeys) looks.hmget(key, 'timestamp', 'finishedOn');
      const states = ((await looks.exec()) ?? []).map(([err, value]): QueuedJobState => {
        if (err) throw err;
        const [created, finished] = value as (string | null)[];
        return created === null ? 'none' : finished === null ? 'live' : 'finished';
      });
      return { tallies, states };
    },
  };
}

import type { Cluster, Redis } from 'ioredis';
import {
  DAY_MS,
  HOUR_MS,
  InputError,
  isTier,
  MINUTE_MS,
  type BudgetWindowName,
  type RedisKeys,
  type Tier,
} from '@rekor-budget/core';
import { BudgetError } from './error';
import { defineScripts, type ScriptName } from './scripts';
import type { BudgetDecision, BudgetLimits, BudgetStatus, Remaining, WindowStatus } from './types';

/** A unit id: `<member>.<ms spent>`, as `tryConsume` hands it out. */
const UNIT_ID_RE = /^(\d{1,10})\.(\d{1,16})$/;
/** A budget marks a tenant active at most once per this span (ms), saving Redis a write per decision. */
const ACTIVE_RESOLUTION_MS = MINUTE_MS;
const ACTIVE_CACHE_MAX = 100_000;
/** How long a hold lives when its job never runs (a crash between release and enqueue). */
export const DEFAULT_HOLD_MS = 10 * MINUTE_MS;
const JOB_ID_RE = /^[A-Za-z0-9_.-]{1,200}$/;

export interface BudgetOptions {
  /** Connection (or Cluster) the budget scripts run on; the budget never closes it. */
  redis: Redis | Cluster;
  /** Key names, from `createRedisKeys(prefix)`. */
  keys: RedisKeys;
  /** `RekorConfig['budget']`. */
  limits: BudgetLimits;
  /**
   * An injected budget clock (ms since the epoch), for tests that drive hours
   * in milliseconds. @defaultValue none: every script reads the Redis server's
   * clock (`TIME`) itself, so no caller's clock can stamp or trim a unit.
   */
  clock?: () => number;
  /** How long a hold lives if its released job never runs (ms). @defaultValue 600 000 */
  holdMs?: number;
}

/** Units promised to released jobs, from `hold`. */
export interface HoldResult {
  /** The clock reading (ms) of the decision. */
  atMs: number;
  /** The first `held` job ids hold a unit each; the others hold nothing. */
  held: number;
  /** Units still free after the holds. */
  free: number;
}

/** Exact per-tenant budgets: the API `createBudget` returns. */
export interface Budget {
  /**
   * Consumes one unit of the tenant's tier budget if every window of the tier
   * has room. A live hold of another job counts as used; pass the job id so a
   * released job spends its own hold.
   */
  tryConsume(tenantId: string, tier: Tier, jobId?: string): Promise<BudgetDecision>;
  /**
   * Gives back a unit that never reached Rekor. Resolves `true` when the unit
   * was still counted, `false` when it was unknown or had already left its windows.
   */
  refund(tenantId: string, tier: Tier, unitId: string): Promise<boolean>;
  /** The tier's budget now, consuming nothing. */
  peek(tenantId: string, tier: Tier): Promise<BudgetStatus>;
  /**
   * Promises units to jobs the scheduler releases, in order, as many as fit
   * now; a held job is admitted when it runs (unless its hold expired).
   */
  hold(tenantId: string, tier: Tier, jobIds: readonly string[]): Promise<HoldResult>;
  /**
   * Lets go of the unit held for a released job that will not spend it (its
   * content was logged already, or it went to the offline queue), so the
   * tenant's next job may take it now rather than when the hold expires.
   * Resolves `true` when the job held a live unit (an expired hold freed nothing).
   */
  release(tenantId: string, tier: Tier, jobId: string): Promise<boolean>;
  /**
   * When a job with `ahead` jobs of the tenant before it may get a unit (ms,
   * budget clock), if nothing else is spent meanwhile.
   */
  estimate(tenantId: string, tier: Tier, ahead: number): Promise<number>;
  /** The budget clock now (ms): the injected clock, or Redis `TIME`. */
  now(): Promise<number>;
  /**
   * Tenants with a decision at or after `sinceMs` (default: the last 24 h), most recent first.
   * Resolution: one budget instance records a tenant's activity at most once a minute.
   */
  activeTenants(sinceMs?: number): Promise<string[]>;
}

interface WindowSpec {
  name: BudgetWindowName;
  windowMs: number;
  limit: number;
}

/** Creates the budget. Validates the limits at once. */
export function createBudget(options: BudgetOptions): Budget {
  const { redis, keys } = options;
  const clock = options.clock;
  const holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
  if (!Number.isSafeInteger(holdMs) || holdMs <= 0) {
    throw new BudgetError(
      'INVALID_LIMITS',
      `holdMs is ${JSON.stringify(holdMs)}; it must be a positive whole number`,
    );
  }
  const windows = tierWindows(options.limits);
  const script = defineScripts(redis);
  const touched = new Map<string, number>();

  /** Whether this decision should mark the tenant active (first time, or a minute since). */
  function shouldTouch(tenantId: string): boolean {
    const at = Date.now();
    const last = touched.get(tenantId);
    if (last !== undefined && at - last < ACTIVE_RESOLUTION_MS && at >= last) return false;
    if (touched.size >= ACTIVE_CACHE_MAX) touched.clear();
    touched.set(tenantId, at);
    return true;
  }

  /** The injected clock's reading, or '' for the scripts to read Redis TIME. */
  function nowArg(): number | '' {
    if (clock === undefined) return '';
    const t = clock();
    if (!Number.isSafeInteger(t) || t < 0) {
      throw new BudgetError(
        'INVALID_CLOCK',
        `the budget clock returned ${t}; it must return whole ms since the epoch`,
      );
    }
    return t;
  }

  function specs(tier: Tier): WindowSpec[] {
    if (!isTier(tier)) {
      throw new BudgetError('INVALID_TIER', `tier ${JSON.stringify(tier)} is not one of "graph", "edge"`);
    }
    return windows[tier];
  }

  function tierKeys(tenantId: string, tier: Tier): string[] {
    specs(tier);
    return [keys.budgetUnits(tenantId, tier), keys.budgetHolds(tenantId, tier)];
  }

  function windowArgs(ws: WindowSpec[]): number[] {
    const out = [ws.length];
    for (const w of ws) out.push(w.windowMs, w.limit);
    return out;
  }

  async function run(name: ScriptName, k: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await script(name)(k, args);
    } catch (cause) {
      throw new BudgetError(
        'BUDGET_UNAVAILABLE',
        `Redis did not run the budget script ${name}: ${String(cause)}`,
        {
          cause,
        },
      );
    }
  }

  function touch(tenantId: string, at: number | ''): Promise<unknown> | undefined {
    const tenant = tenantId.toLowerCase();
    return shouldTouch(tenant) ? run('touch', [keys.activeTenants], [at, tenant, DAY_MS]) : undefined;
  }

  async function peek(tenantId: string, tier: Tier): Promise<BudgetStatus> {
    const k = tierKeys(tenantId, tier);
    const ws = specs(tier);
    const reply = (await run('peek', k, [nowArg(), '', '', ...windowArgs(ws)])) as number[];
    const r = readReply(ws, reply.slice(4), 0);
    return {
      tier,
      atMs: Number(reply[1]),
      admissible: Number(reply[0]) === 1,
      retryAtMs: r.retryAtMs,
      binding: r.binding,
      held: Number(reply[2]),
      free: Number(reply[3]),
      remaining: r.remaining,
      windows: r.windows,
    };
  }

  return {
    async tryConsume(tenantId, tier, jobId) {
      const k = tierKeys(tenantId, tier);
      const ws = specs(tier);
      if (jobId !== undefined && (typeof jobId !== 'string' || !JOB_ID_RE.test(jobId))) {
        throw new BudgetError('INVALID_JOB_ID', `${JSON.stringify(jobId)} is not a job id`);
      }
      const at = nowArg();
      const [reply] = await Promise.all([
        run('consume', k, [at, jobId ?? '', '', ...windowArgs(ws)]) as Promise<number[]>,
        touch(tenantId, at),
      ]);
      const atMs = Number(reply[1]);
      const r = readReply(ws, reply.slice(3), 0);
      if (Number(reply[0]) === 1) {
        return {
          admitted: true,
          tier,
          unitId: `${Number(reply[2])}.${atMs}`,
          atMs,
          remaining: r.remaining,
          windows: r.windows,
        };
      }
      return {
        admitted: false,
        tier,
        atMs,
        retryAtMs: r.retryAtMs!,
        binding: r.binding!,
        remaining: r.remaining,
        windows: r.windows,
      };
    },

    async refund(tenantId, tier, unitId) {
      const k = tierKeys(tenantId, tier);
      const ws = specs(tier);
      const m = typeof unitId === 'string' ? UNIT_ID_RE.exec(unitId) : null;
      if (!m) {
        throw new BudgetError(
          'INVALID_UNIT_ID',
          `${JSON.stringify(unitId)} is not a unit id; pass the unitId tryConsume returned`,
        );
      }
      const longest = Math.max(...ws.map((w) => w.windowMs));
      return Number(await run('refund', [k[0]!], [nowArg(), m[1]!, m[2]!, longest])) > 0;
    },

    peek,

    async hold(tenantId, tier, jobIds) {
      const k = tierKeys(tenantId, tier);
      const ws = specs(tier);
      if (!Array.isArray(jobIds) || jobIds.some((id) => typeof id !== 'string' || !JOB_ID_RE.test(id))) {
        throw new BudgetError('INVALID_JOB_ID', 'hold takes a list of job ids');
      }
      const reply = (await run('hold', k, [nowArg(), '', holdMs, ...windowArgs(ws), ...jobIds])) as number[];
      return { atMs: Number(reply[0]), held: Number(reply[1]), free: Number(reply[2]) };
    },

    async release(tenantId, tier, jobId) {
      const k = tierKeys(tenantId, tier);
      if (typeof jobId !== 'string' || !JOB_ID_RE.test(jobId)) {
        throw new BudgetError('INVALID_JOB_ID', `${JSON.stringify(jobId)} is not a job id`);
      }
      return Number(await run('release', k, [nowArg(), jobId])) === 1;
    },

    async estimate(tenantId, tier, ahead) {
      const k = tierKeys(tenantId, tier);
      const ws = specs(tier);
      if (!Number.isSafeInteger(ahead) || ahead < 0) {
        throw new InputError('INVALID_INPUT', 'ahead', `${String(ahead)} is not a count of jobs`);
      }
      const longest = Math.max(...ws.map((w) => w.windowMs));
      const reply = (await run('units', k, [nowArg(), longest])) as number[];
      const now = Number(reply[0]);
      const spent = reply.slice(2).map(Number);
      return Math.max(...ws.map((w) => slotTime(w, now, spent, ahead + Number(reply[1]))));
    },

    async now() {
      const at = nowArg();
      if (at !== '') return at;
      try {
        const [sec, usec] = await redis.time();
        return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
      } catch (cause) {
        throw new BudgetError('BUDGET_UNAVAILABLE', `Redis did not answer TIME: ${String(cause)}`, { cause });
      }
    },

    async activeTenants(sinceMs) {
      if (sinceMs !== undefined && (!Number.isSafeInteger(sinceMs) || sinceMs < 0)) {
        throw new InputError(
          'INVALID_INPUT',
          'sinceMs',
          `${String(sinceMs)} is not a time; pass ms since the epoch`,
        );
      }
      const at = await this.now();
      const since = sinceMs ?? at - DAY_MS;
      try {
        await redis.zremrangebyscore(keys.activeTenants, '-inf', at - DAY_MS);
        return await redis.zrevrangebyscore(keys.activeTenants, '+inf', since);
      } catch (cause) {
        throw new BudgetError(
          'BUDGET_UNAVAILABLE',
          `Redis did not list the active tenants: ${String(cause)}`,
          { cause },
        );
      }
    },
  };
}

/**
 * When the unit of the job at position `k` (0: next) frees in window `w`, if
 * every job takes its unit as soon as one fits: the window holds `limit`
 * units, so consumption `i` happens at `max(now, consumption[i - limit] + windowMs)`.
 * With the units spent so far `p_0..p_{u-1}` (oldest first) that is, for
 * `q = k - (limit - u) >= 0`, `b[q mod limit] + windowMs x (floor(q / limit) + 1)`
 * where `b` is `p_0..p_{u-1}` followed by `limit - u` times `now`.
 */
export function slotTime(
  w: { windowMs: number; limit: number },
  now: number,
  spent: number[],
  k: number,
): number {
  const inWindow = spent.filter((t) => t > now - w.windowMs).sort((a, b) => a - b);
  const u = Math.min(inWindow.length, w.limit);
  const p = inWindow.slice(inWindow.length - u);
  const q = k - (w.limit - u);
  if (q < 0) return now;
  const i = q % w.limit;
  const base = i < u ? p[i]! : now;
  return base + w.windowMs * (Math.floor(q / w.limit) + 1);
}

/** Turns `{ used_1, freeAt_1, ... }` (from `offset`) into window statuses. */
function readReply(ws: WindowSpec[], reply: number[], offset: number) {
  const windows: WindowStatus[] = [];
  const remaining: Remaining = {};
  let retryAtMs: number | null = null;
  let binding: BudgetWindowName | null = null;
  for (const [i, w] of ws.entries()) {
    const used = Number(reply[offset + 2 * i]);
    const freeAt = Number(reply[offset + 1 + 2 * i]);
    const left = Math.max(0, w.limit - used);
    windows.push({ name: w.name, windowMs: w.windowMs, limit: w.limit, used, remaining: left });
    remaining[w.name] = left;
    if (freeAt > 0 && (retryAtMs === null || freeAt > retryAtMs)) {
      retryAtMs = freeAt;
      binding = w.name;
    }
  }
  return { retryAtMs, binding, remaining, windows };
}

/** The windows of each tier, from validated limits. */
function tierWindows(limits: BudgetLimits): Record<Tier, WindowSpec[]> {
  for (const field of ['hourlyLimit', 'burstWindowMs', 'burstWindowLimit', 'edgeBundleDailyLimit'] as const) {
    const v = limits?.[field];
    if (!Number.isSafeInteger(v) || v <= 0) {
      throw new BudgetError(
        'INVALID_LIMITS',
        `limits.${field} is ${JSON.stringify(v)}; it must be a positive whole number (load the configuration with loadConfig)`,
      );
    }
  }
  return {
    graph: [
      { name: 'hour', windowMs: HOUR_MS, limit: limits.hourlyLimit },
      { name: 'burst', windowMs: limits.burstWindowMs, limit: limits.burstWindowLimit },
    ],
    edge: [{ name: 'day', windowMs: DAY_MS, limit: limits.edgeBundleDailyLimit }],
  };
}

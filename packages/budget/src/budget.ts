import { randomBytes } from 'node:crypto';
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

const UNIT_ID_RE = /^[A-Za-z0-9_-]{12}$/;
/** A budget marks a tenant active at most once per this span (ms), saving Redis a write per decision. */
const ACTIVE_RESOLUTION_MS = MINUTE_MS;
const ACTIVE_CACHE_MAX = 100_000;

export interface BudgetOptions {
  /** Connection (or Cluster) the budget scripts run on; the budget never closes it. */
  redis: Redis | Cluster;
  /** Key names, from `createRedisKeys(prefix)`. */
  keys: RedisKeys;
  /** `RekorConfig['budget']`. */
  limits: BudgetLimits;
  /**
   * The budget clock (ms since the epoch). Every decision is stamped with it.
   * @defaultValue `Date.now`; in production pass `RedisClock.now` (see `syncRedisClock`).
   */
  clock?: () => number;
}

/** Exact per-tenant budgets: the API `createBudget` returns. */
export interface Budget {
  /** Consumes one unit of the tenant's tier budget if every window of the tier has room. */
  tryConsume(tenantId: string, tier: Tier): Promise<BudgetDecision>;
  /**
   * Gives back a unit that never reached Rekor. Resolves `true` when the unit
   * was still counted, `false` when it was unknown or had already left its windows.
   */
  refund(tenantId: string, tier: Tier, unitId: string): Promise<boolean>;
  /** The tier's budget now, consuming nothing. */
  peek(tenantId: string, tier: Tier): Promise<BudgetStatus>;
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
  const clock = options.clock ?? Date.now;
  const windows = tierWindows(options.limits);
  const script = defineScripts(redis);
  const touched = new Map<string, number>();

  /** Whether this decision should mark the tenant active (first time, or a minute since). */
  function shouldTouch(tenantId: string, at: number): boolean {
    const last = touched.get(tenantId);
    if (last !== undefined && at - last < ACTIVE_RESOLUTION_MS && at >= last) return false;
    if (touched.size >= ACTIVE_CACHE_MAX) touched.clear();
    touched.set(tenantId, at);
    return true;
  }

  function now(): number {
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

  async function check(tenantId: string, tier: Tier, consume: boolean) {
    const ws = specs(tier);
    const k = ws.map((w) => keys.budgetWindow(tenantId, w.name));
    const at = now();
    const unitId = consume ? randomBytes(9).toString('base64url') : '';
    const args: (string | number)[] = [at, unitId];
    for (const w of ws) args.push(w.windowMs, w.limit);
    const tenant = tenantId.toLowerCase();
    const [reply] = await Promise.all([
      run(consume ? 'consume' : 'peek', k, args),
      consume && shouldTouch(tenant, at)
        ? run('touch', [keys.activeTenants], [at, tenant, DAY_MS])
        : undefined,
    ]);
    return { at, unitId, ...readReply(ws, reply as number[]) };
  }

  return {
    async tryConsume(tenantId, tier) {
      const r = await check(tenantId, tier, true);
      if (r.ok) {
        return {
          admitted: true,
          tier,
          unitId: r.unitId,
          atMs: r.at,
          remaining: r.remaining,
          windows: r.windows,
        };
      }
      return {
        admitted: false,
        tier,
        retryAtMs: r.retryAtMs!,
        binding: r.binding!,
        remaining: r.remaining,
        windows: r.windows,
      };
    },

    async refund(tenantId, tier, unitId) {
      const ws = specs(tier);
      const k = ws.map((w) => keys.budgetWindow(tenantId, w.name));
      if (typeof unitId !== 'string' || !UNIT_ID_RE.test(unitId)) {
        throw new BudgetError(
          'INVALID_UNIT_ID',
          `${JSON.stringify(unitId)} is not a unit id; pass the unitId tryConsume returned`,
        );
      }
      const args = [unitId, now(), ...ws.map((w) => w.windowMs)];
      return Number(await run('refund', k, args)) > 0;
    },

    async peek(tenantId, tier) {
      const r = await check(tenantId, tier, false);
      return {
        tier,
        atMs: r.at,
        admissible: r.ok,
        retryAtMs: r.retryAtMs,
        binding: r.binding,
        remaining: r.remaining,
        windows: r.windows,
      };
    },

    async activeTenants(sinceMs) {
      if (sinceMs !== undefined && !Number.isFinite(sinceMs)) {
        throw new InputError(
          'INVALID_INPUT',
          'sinceMs',
          `${String(sinceMs)} is not a time; pass ms since the epoch`,
        );
      }
      const at = now();
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

/** Turns a script reply `{ ok, used_1, freeAt_1, ... }` into window statuses. */
function readReply(ws: WindowSpec[], reply: number[]) {
  const windows: WindowStatus[] = [];
  const remaining: Remaining = {};
  let retryAtMs: number | null = null;
  let binding: BudgetWindowName | null = null;
  for (const [i, w] of ws.entries()) {
    const used = Number(reply[1 + 2 * i]);
    const freeAt = Number(reply[2 + 2 * i]);
    const left = Math.max(0, w.limit - used);
    windows.push({ name: w.name, windowMs: w.windowMs, limit: w.limit, used, remaining: left });
    remaining[w.name] = left;
    if (freeAt > 0 && (retryAtMs === null || freeAt > retryAtMs)) {
      retryAtMs = freeAt;
      binding = w.name;
    }
  }
  return { ok: Number(reply[0]) === 1, retryAtMs, binding, remaining, windows };
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

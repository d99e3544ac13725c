/**
 * Budget decisions per second across 10,000 tenants, and Redis memory per
 * tenant at full hourly use, for @rekor-budget/budget (rolling windows, one
 * Lua script per decision) and rate-limiter-flexible's RateLimiterRedis
 * (fixed windows: one for the hour, one for the burst window), on the same
 * workload and the same Redis.
 *
 *   npm run bench -w @rekor-budget/budget      (REDIS_URL, default redis://127.0.0.1:6379)
 *
 * Environment: BENCH_TENANTS (10000), BENCH_DECISIONS (400000: 40 per tenant, so 7 of 40 are refused),
 * BENCH_CONCURRENCY (512 in flight), BENCH_CONNECTIONS (8), BENCH_MEMORY_TENANTS (1000),
 * BENCH_ROUNDS (3: throughput rounds per implementation, interleaved; the median is reported).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { createRedisKeys, HOUR_MS } from '@rekor-budget/core';
import { createBudget } from '../src';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const TENANTS = env('BENCH_TENANTS', 10_000);
const DECISIONS = env('BENCH_DECISIONS', 400_000);
const CONCURRENCY = env('BENCH_CONCURRENCY', 512);
const CONNECTIONS = env('BENCH_CONNECTIONS', 8);
const MEMORY_TENANTS = env('BENCH_MEMORY_TENANTS', 1000);
const ROUNDS = env('BENCH_ROUNDS', 3);
const URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

const LIMITS = {
  hourlyLimit: 100,
  burstLimit: 200,
  burstWindowMs: 600_000,
  burstWindowLimit: 33,
  edgeBundleDailyLimit: 50,
};

type Decide = (tenantId: string) => Promise<boolean>;

interface Impl {
  name: string;
  /** A decision function on connection `c`, with an optional clock. */
  decider(c: Redis, clock?: () => number): Decide;
  /** Key names of one tenant. */
  keys(tenantId: string): string[];
  prefix: string;
  /** Whether filling to full hourly use must admit every unit (a fixed-window counter refuses past 33 in 10 min of real time). */
  fillMustAdmit: boolean;
}

function ours(prefix: string): Impl {
  const keys = createRedisKeys(prefix);
  return {
    name: '@rekor-budget/budget (rolling, Lua)',
    prefix,
    fillMustAdmit: true,
    decider(redis, clock) {
      const budget = createBudget({ redis, keys, limits: LIMITS, ...(clock ? { clock } : {}) });
      return async (t) => (await budget.tryConsume(t, 'graph')).admitted;
    },
    keys: (t) => [keys.budgetUnits(t, 'graph'), keys.budgetHolds(t, 'graph')],
  };
}

function rlf(prefix: string): Impl {
  return {
    name: 'rate-limiter-flexible RateLimiterRedis (fixed)',
    prefix,
    fillMustAdmit: false,
    decider(storeClient) {
      const hour = new RateLimiterRedis({
        storeClient,
        keyPrefix: `${prefix}:h`,
        points: 100,
        duration: 3600,
      });
      const burst = new RateLimiterRedis({
        storeClient,
        keyPrefix: `${prefix}:b`,
        points: 33,
        duration: 600,
      });
      const ok = (p: Promise<RateLimiterRes>) =>
        p.then(
          () => true,
          (e) => {
            if (e instanceof RateLimiterRes) return false;
            throw e;
          },
        );
      // Both windows must admit; each limiter counts independently (no atomic pair).
      return async (t) => (await Promise.all([ok(hour.consume(t)), ok(burst.consume(t))])).every(Boolean);
    },
    keys: (t) => [`${prefix}:h:${t}`, `${prefix}:b:${t}`],
  };
}

async function throughput(
  impl: Impl,
  conns: Redis[],
  tenants: string[],
): Promise<{ perSec: number; admitted: number }> {
  const deciders = conns.map((c) => impl.decider(c));
  let next = 0;
  let admitted = 0;
  const worker = async (w: number) => {
    const decide = deciders[w % deciders.length]!;
    for (let i = next++; i < DECISIONS; i = next++) {
      if (await decide(tenants[(i * 7919) % tenants.length]!)) admitted++;
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { perSec: DECISIONS / seconds, admitted };
}

/** Brings tenants to full hourly use (100 units in the hour, the last 33 in the burst window) and measures. */
async function memory(
  impl: Impl,
  admin: Redis,
  conns: Redis[],
): Promise<{ keysBytes: number; infoBytes: number }> {
  const tenants = Array.from({ length: MEMORY_TENANTS }, () => randomUUID());
  const end = Date.now();
  let t = end - HOUR_MS + 1;
  const clock = () => t;
  const deciders = conns.map((c) => impl.decider(c, clock));
  const before = await usedMemory(admin);
  // 67 units spread over the first 50 minutes, then 33 in the last 10 minutes (fake clock for ours;
  // rate-limiter-flexible uses Redis time, its fixed windows simply count 100 and 33).
  for (let u = 0; u < 100; u++) {
    t = u < 67 ? end - HOUR_MS + 1 + u * 44_000 : end - 600_000 + 1 + (u - 67) * 18_000;
    const results = await Promise.all(tenants.map((id, i) => deciders[i % deciders.length]!(id)));
    if (impl.fillMustAdmit && !results.every(Boolean))
      throw new Error(`${impl.name}: unit ${u} refused while filling`);
  }
  const after = await usedMemory(admin);
  let keysBytes = 0;
  const pipe = admin.pipeline();
  for (const id of tenants) for (const k of impl.keys(id)) pipe.memory('USAGE', k, 'SAMPLES', '0');
  for (const [err, bytes] of (await pipe.exec())!) {
    if (err) throw err;
    keysBytes += Number(bytes ?? 0);
  }
  return { keysBytes: keysBytes / tenants.length, infoBytes: (after - before) / tenants.length };
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

async function clean(admin: Redis, prefix: string): Promise<void> {
  for (const pattern of [`${prefix}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await admin.unlink(...keys);
    } while (cursor !== '0');
  }
}

async function main(): Promise<void> {
  const admin = new Redis(URL);
  const conns = Array.from({ length: CONNECTIONS }, () => new Redis(URL, { enableAutoPipelining: true }));
  const tag = `bench-${Date.now().toString(36)}`;
  const tenants = Array.from({ length: TENANTS }, () => randomUUID());
  const server = await admin.info('server');
  console.log(`Redis ${/redis_version:(\S+)/.exec(server)![1]} at ${URL}; Node ${process.version}`);
  console.log(
    `workload: ${DECISIONS} Tier 1 decisions over ${TENANTS} tenants (limits 100/h, 33 per 10 min), ` +
      `${CONCURRENCY} decisions in flight over ${CONNECTIONS} connections with ioredis auto-pipelining`,
  );
  console.log(
    `memory: ${MEMORY_TENANTS} tenants brought to full hourly use (100 units/h, 33 in the burst window)\n`,
  );
  const rows: string[][] = [];
  try {
    const impls = [ours(`${tag}-ours`), rlf(`${tag}-rlf`)];
    for (const impl of impls) {
      await throughput({ ...impl, prefix: `${impl.prefix}-warm` }, conns, tenants.slice(0, 500));
    }
    // Rounds interleave the implementations, so a noisy neighbour on the machine hits both alike.
    const rates = impls.map(() => [] as number[]);
    const admitted = impls.map(() => 0);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, impl] of impls.entries()) {
        await clean(admin, impl.prefix);
        const tp = await throughput(impl, conns, tenants);
        rates[i]!.push(tp.perSec);
        admitted[i] = tp.admitted;
      }
    }
    for (const [i, impl] of impls.entries()) {
      await clean(admin, impl.prefix);
      const mem = await memory(impl, admin, conns);
      await clean(admin, impl.prefix);
      const sorted = rates[i]!.sort((a, b) => a - b);
      const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
      rows.push([
        impl.name,
        fmt(sorted[Math.floor(sorted.length / 2)]!),
        `${fmt(sorted[0]!)}..${fmt(sorted[sorted.length - 1]!)}`,
        `${admitted[i]}/${DECISIONS}`,
        `${(mem.keysBytes / 1024).toFixed(2)} KB`,
        `${(mem.infoBytes / 1024).toFixed(2)} KB`,
      ]);
    }
  } finally {
    await clean(admin, tag);
    await Promise.all([admin, ...conns].map((c) => c.quit()));
  }
  const head = [
    'implementation',
    'decisions/s (median)',
    `range (${ROUNDS} rounds)`,
    'admitted',
    'MEMORY USAGE/tenant',
    'INFO delta/tenant',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  console.log(
    '\nMEMORY USAGE sums the tenant keys (SAMPLES 0: every element); the INFO used_memory delta also ' +
      'moves with other clients of a shared Redis, so read it as a cross-check only.',
  );
  console.log('targets: >= 20,000 decisions/s, <= 10 KB per tenant (ours)');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

import type { Command } from 'commander';
import { Queue } from 'bullmq';
import { sql } from 'kysely';
import { createRedisKeys, TIERS, type RekorConfig, type Tier } from '@rekor-budget/core';
import { createBudget, syncRedisClock, type BudgetStatus } from '@rekor-budget/budget';
import { configFor, type GlobalOptions } from '../context';
import { EXIT, type CliIo } from '../io';
import { probeRekor } from '../probe';
import { openServices, type Services } from '../services';
import { whole } from '../util';

interface StatusFlags {
  json?: boolean;
  tenants: number;
}

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'paused', 'completed', 'failed'] as const;

export interface StatusReport {
  at: string;
  rekor: { url: string; reachable: boolean; detail: string; airGapped: boolean; markedOffline: boolean };
  queues: Record<Tier, Record<(typeof STATES)[number], number>>;
  offline: { tier: Tier; reason: string; rows: number }[];
  tenants: {
    tenantId: string;
    tier: Tier;
    windows: { name: string; used: number; limit: number }[];
    nextFreeAt: string | null;
  }[];
}

async function collect(config: RekorConfig, s: Services, maxTenants: number): Promise<StatusReport> {
  const keys = createRedisKeys(config.redis.keyPrefix);
  const queues = TIERS.map(
    (t) => new Queue(keys.queueName(t), { connection: s.redis, prefix: keys.queuePrefix }),
  );
  try {
    const clock = await syncRedisClock(s.redis);
    const budget = createBudget({ redis: s.redis, keys, limits: config.budget, clock: clock.now });
    const counts = await Promise.all(queues.map((q) => q.getJobCounts(...STATES)));
    const offline = await s.db
      .selectFrom('attestor.rekor_offline_queue')
      .select(['tier', 'reason', sql<number>`count(*)::int`.as('rows')])
      .groupBy(['tier', 'reason'])
      .orderBy('tier')
      .execute();
    const rekor = config.offline.airGapped
      ? { ok: false, detail: 'air-gapped: never contacted' }
      : await probeRekor(config.serverUrl);
    const tenants: StatusReport['tenants'] = [];
    for (const tenantId of (await budget.activeTenants()).slice(0, maxTenants)) {
      for (const tier of TIERS) {
        const st: BudgetStatus = await budget.peek(tenantId, tier);
        if (st.windows.every((w) => w.used === 0)) continue;
        tenants.push({
          tenantId,
          tier,
          windows: st.windows.map((w) => ({ name: w.name, used: w.used, limit: w.limit })),
          nextFreeAt: st.admissible ? null : new Date(st.retryAtMs!).toISOString(),
        });
      }
    }
    return {
      at: new Date(clock.now()).toISOString(),
      rekor: {
        url: config.serverUrl,
        reachable: rekor.ok,
        detail: rekor.detail,
        airGapped: config.offline.airGapped,
        markedOffline: (await s.redis.get(keys.rekorState)) === 'offline',
      },
      queues: Object.fromEntries(
        TIERS.map((t, i) => [t, Object.fromEntries(STATES.map((st) => [st, counts[i]![st] ?? 0]))]),
      ) as StatusReport['queues'],
      offline: offline.map((o) => ({ tier: o.tier, reason: o.reason, rows: o.rows })),
      tenants,
    };
  } finally {
    await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
  }
}

function bar(used: number, limit: number, width = 20): string {
  const filled = Math.min(width, Math.round((used / limit) * width));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function render(r: StatusReport): string {
  const lines: string[] = [];
  const rekorState = r.rekor.airGapped
    ? 'air-gapped (signed and stored only)'
    : `${r.rekor.reachable ? 'reachable' : 'UNREACHABLE'} (${r.rekor.detail})${r.rekor.markedOffline ? ', workers hold off (marked offline)' : ''}`;
  lines.push(
    `rekor   ${r.rekor.url}: ${rekorState}`,
    '',
    'queues  ' + STATES.map((s) => s.padStart(11)).join(''),
  );
  for (const t of TIERS)
    lines.push(`  ${t.padEnd(6)}` + STATES.map((s) => String(r.queues[t][s]).padStart(11)).join(''));
  lines.push('', `offline queue: ${r.offline.reduce((a, o) => a + o.rows, 0)} rows`);
  for (const o of r.offline) lines.push(`  ${o.tier.padEnd(6)} ${o.reason.padEnd(18)} ${o.rows}`);
  lines.push('', `tenants (active in the last 24 h): ${new Set(r.tenants.map((t) => t.tenantId)).size}`);
  for (const t of r.tenants) {
    const windows = t.windows
      .map((w) => `${w.name.padEnd(5)} ${bar(w.used, w.limit)} ${w.used}/${w.limit}`)
      .join('   ');
    lines.push(`  ${t.tenantId} ${t.tier.padEnd(5)} ${windows}   next free: ${t.nextFreeAt ?? 'now'}`);
  }
  return lines.join('\n');
}

export function registerStatus(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('status')
    .description(
      'queue states per tier, offline rows, Rekor reachability, per-tenant budget use and next free slot',
    )
    .option('--json', 'print the status as JSON')
    .option('--tenants <n>', 'show at most this many tenants', whole('--tenants', 10_000, 1), 50)
    .action(async (flags: StatusFlags, cmd: Command) => {
      const { config } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io);
      const services = openServices(config);
      try {
        const report = await collect(config, services, flags.tenants);
        io.out(flags.json ? JSON.stringify(report, null, 2) : render(report));
        setExit(EXIT.OK);
      } finally {
        await services.close();
      }
    });
}

import type { Command } from 'commander';
import { redactUrl, TIERS, type Tier } from '@rekor-budget/core';
import { rankTenants, relativeTime } from '@rekor-budget/dashboard';
import { tenantWork } from '@rekor-budget/queue';
import type { Runtime } from '@rekor-budget/runtime';
import { configFor, type GlobalOptions } from '../context';
import { EXIT, type CliIo } from '../io';
import { createCliLogger } from '../logger';
import { whole } from '../util';
import { commandRuntime } from '../wiring';

interface StatusFlags {
  json?: boolean;
  tenants: number;
}

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'paused', 'completed', 'failed'] as const;

export interface StatusReport {
  at: string;
  rekor: { url: string; reachable: boolean; detail: string; airGapped: boolean; markedOffline: boolean };
  /**
   * The timestamp authority bundles take their timestamps from, asked for one
   * now (`granted` when it gave it); `null` without one, or when air-gapped.
   */
  timestampAuthority: { url: string; reachable: boolean; detail: string } | null;
  queues: Record<Tier, Record<(typeof STATES)[number], number>>;
  offline: { tier: Tier; reason: string; rows: number }[];
  /** Tenants with budget used or work in some tier; `tenants` holds the fullest `--tenants` of them. */
  tenantsTotal: number;
  tenants: {
    tenantId: string;
    /** The display name from the configuration's `tenants:` map, if any. */
    name?: string;
    tier: Tier;
    windows: { name: string; used: number; limit: number }[];
    nextFreeAt: string | null;
    /** Jobs of the tenant in the tier queue. */
    queued: number;
    /** Jobs of the tenant parked for budget (Postgres). */
    parked: number;
    /** When the scheduler next releases parked jobs of the tenant; `null` without any. */
    nextReleaseAt: string | null;
  }[];
}

/** How long `status` waits for Rekor to answer its probe (ms). */
const STATUS_PROBE_TIMEOUT_MS = 3_000;

async function collect(rt: Runtime, maxTenants: number): Promise<StatusReport> {
  const { config } = rt;
  const counts = await Promise.all(TIERS.map((t) => rt.queues.get(t).getJobCounts(...STATES)));
  const offline = await rt.offline.counts();
  const [rekor, tsa] = await Promise.all([
    rt.probeRekor(STATUS_PROBE_TIMEOUT_MS),
    config.offline.airGapped ? undefined : rt.probeTimestampAuthority(STATUS_PROBE_TIMEOUT_MS),
  ]);
  const tenants: StatusReport['tenants'] = [];
  // ranked over every tenant before the cap: the fullest are the ones shown
  const ranked = await rankTenants(rt);
  const work = await Promise.all(
    TIERS.map((t) =>
      tenantWork(
        rt,
        t,
        ranked.map((r) => r.tenantId),
      ),
    ),
  );
  let tenantsTotal = 0;
  for (const { tenantId, name, statuses } of ranked) {
    const rows: StatusReport['tenants'] = [];
    for (const [i, tier] of TIERS.entries()) {
      const st = statuses[i]!;
      const w = work[i]!.get(tenantId.toLowerCase()) ?? { queued: 0, parked: 0, nextReleaseAt: null };
      if (st.windows.every((x) => x.used === 0) && w.queued === 0 && w.parked === 0) continue;
      rows.push({
        tenantId,
        ...(name === undefined ? {} : { name }),
        tier,
        windows: st.windows.map((x) => ({ name: x.name, used: x.used, limit: x.limit })),
        nextFreeAt: st.admissible ? null : new Date(st.retryAtMs!).toISOString(),
        queued: w.queued,
        parked: w.parked,
        nextReleaseAt: w.nextReleaseAt === null ? null : new Date(w.nextReleaseAt).toISOString(),
      });
    }
    if (rows.length === 0) continue;
    if (++tenantsTotal <= maxTenants) tenants.push(...rows);
  }
  return {
    at: new Date(rt.clock()).toISOString(),
    rekor: {
      url: redactUrl(config.serverUrl),
      reachable: rekor.state === 'reachable',
      detail: rekor.detail,
      airGapped: config.offline.airGapped,
      markedOffline: (await rt.redis.get(rt.keys.rekorState)) === 'offline',
    },
    timestampAuthority: tsa ? { url: tsa.url, reachable: tsa.reachable, detail: tsa.detail } : null,
    queues: Object.fromEntries(
      TIERS.map((t, i) => [t, Object.fromEntries(STATES.map((st) => [st, counts[i]![st] ?? 0]))]),
    ) as StatusReport['queues'],
    offline,
    tenantsTotal,
    tenants,
  };
}

/** Width of a queue-state column: the longest state name and two spaces. */
const COLUMN = Math.max(...STATES.map((s) => s.length)) + 2;

/** "in 9 min (10:42:13)": relative to the report, then the local 24-hour time. */
function localTime(iso: string, nowIso: string): string {
  const at = new Date(iso);
  const clock = at.toLocaleTimeString('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  return `${relativeTime(at.getTime(), Date.parse(nowIso))} (${clock})`;
}

function bar(used: number, limit: number, width = 20): string {
  const filled = Math.min(width, Math.round((used / limit) * width));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function render(r: StatusReport): string {
  const lines: string[] = [];
  const shown = new Set(r.tenants.map((t) => t.tenantId)).size;
  const rekorState = r.rekor.airGapped
    ? 'air-gapped (signed and stored only)'
    : `${r.rekor.reachable ? 'reachable' : 'UNREACHABLE'} (${r.rekor.detail})${r.rekor.markedOffline ? ', workers hold off (marked offline)' : ''}`;
  lines.push(`rekor   ${r.rekor.url}: ${rekorState}`);
  const tsa = r.timestampAuthority;
  if (tsa) lines.push(`tsa     ${tsa.url}: ${tsa.reachable ? 'reachable' : 'UNREACHABLE'} (${tsa.detail})`);
  lines.push('', 'queues  ' + STATES.map((s) => s.padStart(COLUMN)).join(''));
  for (const t of TIERS)
    lines.push(`  ${t.padEnd(6)}` + STATES.map((s) => String(r.queues[t][s]).padStart(COLUMN)).join(''));
  lines.push('', `offline queue: ${r.offline.reduce((a, o) => a + o.rows, 0)} rows`);
  for (const o of r.offline) lines.push(`  ${o.tier.padEnd(6)} ${o.reason.padEnd(22)} ${o.rows}`);
  lines.push(
    '',
    `tenants (active in the last 24 h or with parked jobs): ${r.tenantsTotal}` +
      (shown < r.tenantsTotal ? `, the ${shown} fullest shown (--tenants)` : ''),
  );
  const nameWidth = Math.max(0, ...r.tenants.map((t) => t.name?.length ?? 0));
  for (const t of r.tenants) {
    const windows = t.windows
      .map((w) => `${w.name.padEnd(5)} ${bar(w.used, w.limit)} ${w.used}/${w.limit}`)
      .join('   ');
    const who = t.name === undefined ? t.tenantId : `${t.name.padEnd(nameWidth)} ${t.tenantId}`;
    const next = t.nextFreeAt === null ? 'now' : localTime(t.nextFreeAt, r.at);
    const release = t.nextReleaseAt === null ? '-' : localTime(t.nextReleaseAt, r.at);
    lines.push(
      `  ${who} ${t.tier.padEnd(5)} ${windows}   next free: ${next}` +
        `   queued ${t.queued}  parked ${t.parked}  next release: ${release}`,
    );
  }
  return lines.join('\n');
}

export function registerStatus(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('status')
    .description(
      'queue states per tier, offline rows, Rekor reachability, per-tenant budget use, next free slot, queued and parked jobs and next release',
    )
    .option('--json', 'print the status as JSON')
    .option(
      '--tenants <n>',
      'show at most this many tenants, the fullest first',
      whole('--tenants', 10_000, 1),
      50,
    )
    .action(async (flags: StatusFlags, cmd: Command) => {
      const { config } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io, { runEnv: true });
      const runtime = await commandRuntime(config, createCliLogger(io, { stream: 'err' }));
      try {
        const report = await collect(runtime, flags.tenants);
        io.out(flags.json ? JSON.stringify(report, null, 2) : render(report));
        setExit(EXIT.OK);
      } finally {
        await runtime.close();
      }
    });
}

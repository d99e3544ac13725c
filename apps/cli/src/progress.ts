import type { Registry } from 'prom-client';
import { TIERS } from '@rekor-budget/core';
import type { Runtime } from '@rekor-budget/runtime';

/** What one tier holds now. */
interface TierNow {
  waiting: number;
  active: number;
  /** Parked in Postgres until the tenant's budget frees a unit for them. */
  parked: number;
  /** Delayed in the queue: a retry after a failed attempt, or a wait for Redis, Postgres or the content lock. */
  delayed: number;
}

/** The sum of a counter's values, by the value of one label. */
async function counterBy(registry: Registry, name: string, label: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const metric = registry.getSingleMetric(name);
  if (!metric) return out;
  for (const v of (await metric.get()).values) {
    const key = String(v.labels[label] ?? '');
    out.set(key, (out.get(key) ?? 0) + v.value);
  }
  return out;
}

/** This process's outcomes so far, from its own metrics. */
async function outcomes(registry: Registry) {
  const [status, errors] = await Promise.all([
    counterBy(registry, 'attestor_rekor_submissions_total', 'status'),
    counterBy(registry, 'attestor_rekor_submission_errors_total', 'reason'),
  ]);
  const n = (m: Map<string, number>, k: string) => m.get(k) ?? 0;
  return {
    created: n(status, 'created'),
    duplicate: n(status, 'duplicate'),
    offline: n(status, 'offline'),
    rejected: n(status, 'rejected'),
    failedAttempts: [...errors.values()].reduce((a, b) => a + b, 0),
    errorsByReason: errors,
  };
}

async function tierNow(runtime: Runtime, tier: (typeof TIERS)[number], parked: number): Promise<TierNow> {
  const counts = await runtime.queues.get(tier).getJobCounts('waiting', 'prioritized', 'active', 'delayed');
  return {
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    parked,
    delayed: counts.delayed ?? 0,
  };
}

/**
 * The progress line of `start` and `demo`: the queues now (jobs parked for
 * budget and jobs waiting to retry apart), the offline queue, the receipts, and what this
 * process's workers did since it started (logged, handed to the offline
 * queue, failed attempts summarised by cause instead of one line each).
 * `next()` resolves `undefined` while nothing changed since the last line.
 */
export function createProgress(runtime: Runtime) {
  let last: string | undefined;
  let lastFailed = 0;
  async function line(): Promise<string> {
    const depth = await runtime.parking.depth();
    const [tiers, offline, receipts, o] = await Promise.all([
      Promise.all(TIERS.map((t) => tierNow(runtime, t, depth[t]))),
      runtime.offline.size(),
      runtime.receipts.count(),
      outcomes(runtime.registry),
    ]);
    const queues = TIERS.map((t, i) => {
      const q = tiers[i]!;
      const parts = [`${q.waiting} waiting`, `${q.active} running`, `${q.parked} parked for budget`];
      if (q.delayed > 0) parts.push(`${q.delayed} waiting to retry`);
      return `${t}: ${parts.join(', ')}`;
    });
    const failed = o.failedAttempts - lastFailed;
    lastFailed = o.failedAttempts;
    const causes = [...o.errorsByReason].filter(([, v]) => v > 0).map(([k, v]) => `${v} ${k}`);
    const run = [
      `logged ${o.created + o.duplicate}${o.duplicate ? ` (${o.duplicate} found already in the log)` : ''}`,
      `handed to the offline queue ${o.offline}`,
      ...(o.rejected ? [`rejected ${o.rejected}`] : []),
      ...(failed > 0 ? [`${failed} attempts failed since the last line (so far: ${causes.join(', ')})`] : []),
    ];
    return `progress  ${queues.join(' | ')} | offline queue now ${offline} | receipts ${receipts} | this run: ${run.join(', ')}`;
  }
  return {
    line,
    /** The line, or `undefined` when it would repeat the last one. */
    async next(): Promise<string | undefined> {
      const l = await line();
      if (l === last) return undefined;
      last = l;
      return l;
    },
  };
}

import type { Queue } from 'bullmq';
import { TIERS, type Tier } from '@rekor-budget/core';
import type { Budget } from '@rekor-budget/budget';
import type { MetricsSources } from '@rekor-budget/metrics';
import type { OfflineQueue } from '@rekor-budget/producer';

/**
 * The scrape-time gauges of a process: backlog per tier queue, offline rows
 * per tier, and the budgets of the tenants active in the last 24 h (hourly
 * units left; utilization of the fullest window).
 */
export function metricsSources(parts: {
  queues: Record<Tier, Queue>;
  offline: OfflineQueue;
  budget: Budget;
}): MetricsSources {
  return {
    queueDepth: async () => {
      const out: Record<Tier, number> = { graph: 0, edge: 0 };
      for (const t of TIERS) {
        const c = await parts.queues[t].getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'paused');
        out[t] = Object.values(c).reduce((a, b) => a + b, 0);
      }
      return out;
    },
    offlineDepth: () => parts.offline.depth(),
    budgets: async () => {
      const tenants = await parts.budget.activeTenants();
      return Promise.all(
        tenants.map(async (tenantId) => {
          const s = await parts.budget.peek(tenantId, 'graph');
          const hour = s.windows.find((w) => w.name === 'hour');
          return {
            tenantId,
            remaining: hour?.remaining ?? 0,
            utilization: Math.max(...s.windows.map((w) => w.used / w.limit)),
          };
        }),
      );
    },
  };
}

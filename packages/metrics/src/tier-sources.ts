import type { Budget } from '@rekor-budget/budget';
import type { OfflineQueue, RejectedStore, TierQueues } from '@rekor-budget/queue';
import type { MetricsSources } from './sources';

/** What the scrape-time gauges of a process read. */
export interface MetricsSourceParts {
  queues: Pick<TierQueues, 'depth'>;
  offline: Pick<OfflineQueue, 'depth'>;
  rejected: Pick<RejectedStore, 'depth'>;
  budget: Pick<Budget, 'activeTenants' | 'peek'>;
}

/**
 * The scrape-time gauges of a process: jobs waiting or running per tier
 * queue, offline rows per tier, and the budgets of the tenants active in the
 * last 24 h (hourly units left; utilization of the fullest window).
 */
export function metricsSources(parts: MetricsSourceParts): MetricsSources {
  return {
    queueDepth: () => parts.queues.depth(),
    offlineDepth: () => parts.offline.depth(),
    rejectedDepth: () => parts.rejected.depth(),
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

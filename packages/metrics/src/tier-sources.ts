import type { Budget } from '@rekor-budget/budget';
import type { OfflineQueue, ParkingLot, RejectedStore, TierQueues } from '@rekor-budget/queue';
import type { MetricsSources } from './sources';

/** What the scrape-time gauges of a process read. */
export interface MetricsSourceParts {
  queues: Pick<TierQueues, 'depth'>;
  offline: Pick<OfflineQueue, 'depth'>;
  /** Jobs parked for budget count in the queue depth: they wait to be logged like queued ones. */
  parking?: Pick<ParkingLot, 'depth'>;
  rejected: Pick<RejectedStore, 'depth'>;
  budget: Pick<Budget, 'activeTenants' | 'peek'>;
}

/**
 * The scrape-time gauges of a process: jobs waiting, parked for budget or
 * running per tier, offline rows per tier, and the budgets of the tenants active in the
 * last 24 h (hourly units left; utilization of the fullest window).
 */
export function metricsSources(parts: MetricsSourceParts): MetricsSources {
  return {
    queueDepth: async () => {
      const [queued, parked] = await Promise.all([
        parts.queues.depth(),
        parts.parking ? parts.parking.depth() : { graph: 0, edge: 0 },
      ]);
      return { graph: queued.graph + parked.graph, edge: queued.edge + parked.edge };
    },
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

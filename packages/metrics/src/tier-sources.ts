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
 * last 24 h (hourly units left; utilization of the fullest window of either tier).
 */
export function metricsSources(parts: MetricsSourceParts): MetricsSources {
  return {
    queueDepth: async () => {
      // Redis and Postgres each count their part: one of them away still leaves the
      // other's jobs in the gauge, so a backlog stuck behind an outage stays visible
      const [queued, parked] = await Promise.allSettled([
        parts.queues.depth(),
        parts.parking ? parts.parking.depth() : Promise.resolve({ graph: 0, edge: 0 }),
      ]);
      if (queued.status === 'rejected' && parked.status === 'rejected') throw queued.reason;
      const none = { graph: 0, edge: 0 };
      const q = queued.status === 'fulfilled' ? queued.value : none;
      const p = parked.status === 'fulfilled' ? parked.value : none;
      return { graph: q.graph + p.graph, edge: q.edge + p.edge };
    },
    offlineDepth: () => parts.offline.depth(),
    rejectedDepth: () => parts.rejected.depth(),
    budgets: async () => {
      const tenants = await parts.budget.activeTenants();
      return Promise.all(
        tenants.map(async (tenantId) => {
          const [graph, edge] = await Promise.all([
            parts.budget.peek(tenantId, 'graph'),
            parts.budget.peek(tenantId, 'edge'),
          ]);
          const hour = graph.windows.find((w) => w.name === 'hour');
          return {
            tenantId,
            remaining: hour?.remaining ?? 0,
            // Tier 2's daily cap counts too: a tenant out of edge bundles is out of budget
            utilization: Math.max(...[...graph.windows, ...edge.windows].map((w) => w.used / w.limit)),
          };
        }),
      );
    },
  };
}

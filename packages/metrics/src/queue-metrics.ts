import { TIERS, type Tier } from '@rekor-budget/core';
import { Gauge, type Registry } from 'prom-client';
import { METRIC_NAMES } from './names';
import { register } from './register';
import { count, type ScrapeSource } from './sources';

type DepthName =
  typeof METRIC_NAMES.queueDepth | typeof METRIC_NAMES.offlineQueueDepth | typeof METRIC_NAMES.rejectedDepth;

/**
 * A per-tier depth gauge read at scrape time. Without a source, or when the
 * source fails, the gauge exposes no series (never a stale value).
 */
function depthGauge(
  registry: Registry,
  name: DepthName,
  help: string,
  source: ScrapeSource<Record<Tier, number>> | undefined,
): Gauge<'tier'> {
  return register(
    registry,
    name,
    () =>
      new Gauge({
        name,
        help,
        labelNames: ['tier'] as const,
        registers: [registry],
        async collect() {
          const depths = source ? await source.read() : undefined;
          this.reset();
          if (!source || !depths) return;
          for (const tier of TIERS) {
            const n = count(depths[tier]);
            if (n === undefined) source.fail(`depth of tier ${tier} is ${String(depths[tier])}, not a count`);
            else this.set({ tier }, n);
          }
        },
      }),
  );
}

/** `attestor_rekor_queue_depth`, `attestor_rekor_offline_queue_depth` and `attestor_rekor_rejected_depth`. */
export class QueueMetrics {
  constructor(
    registry: Registry,
    sources: {
      queueDepth?: ScrapeSource<Record<Tier, number>>;
      offlineDepth?: ScrapeSource<Record<Tier, number>>;
      rejectedDepth?: ScrapeSource<Record<Tier, number>>;
    },
  ) {
    depthGauge(
      registry,
      METRIC_NAMES.queueDepth,
      'Submissions waiting (in the Redis tier queue, or parked for budget in Postgres) or in progress.',
      sources.queueDepth,
    );
    depthGauge(
      registry,
      METRIC_NAMES.offlineQueueDepth,
      'Submissions waiting in the offline queue (Postgres) for Redis or Rekor to answer again, or for an offline kit.',
      sources.offlineDepth,
    );
    depthGauge(
      registry,
      METRIC_NAMES.rejectedDepth,
      'Submissions Rekor refused for good, kept for an operator (rekor-budget rejected list|retry|discard).',
      sources.rejectedDepth,
    );
  }
}

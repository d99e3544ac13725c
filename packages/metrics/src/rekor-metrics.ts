import type { EdgeTrigger, Tier } from '@rekor-budget/core';
import { Counter, Gauge, register as globalRegistry, type Registry } from 'prom-client';
import { register } from './register';
import { BudgetMetrics } from './budget-metrics';
import { EdgeTriggerMetrics } from './edge-trigger-metrics';
import { MetricsError } from './errors';
import {
  DEFAULT_MAX_TENANT_SERIES,
  LATENCY_BUCKETS,
  METRIC_NAMES,
  type ErrorReason,
  type RejectionReason,
  type SubmissionStatus,
} from './names';
import { QueueMetrics } from './queue-metrics';
import { ScrapeSource, type MetricsSources, type SourceErrorHandler } from './sources';
import { SubmissionMetrics } from './submission-metrics';

export interface RekorMetricsOptions {
  /** The registry to register on; never the global default registry. */
  registry: Registry;
  /** Scrape-time providers of the gauges; a gauge without one exposes no series. */
  sources?: MetricsSources;
  /**
   * Most tenants exposed by the per-tenant budget gauges: those with the
   * highest utilization. Bounds the series a flood of tenants can create.
   * @defaultValue 500
   */
  maxTenantSeries?: number;
  /**
   * Display names by lower-case tenant UUID (the configuration's `tenants:`):
   * the budget series of a named tenant also carry `tenant_name`.
   * @defaultValue {}
   */
  tenantNames?: Readonly<Record<string, string>>;
  /**
   * How long a scrape waits for one source before exposing its gauge empty.
   * @defaultValue 5000
   */
  sourceTimeoutMs?: number;
  /**
   * Buckets of the latency histogram, in seconds.
   * @defaultValue {@link LATENCY_BUCKETS} (0.05 s to 6 h)
   */
  latencyBuckets?: readonly number[];
  /**
   * Told when a source throws, times out or returns bad values; the scrape
   * goes on without that gauge's series.
   * @defaultValue ignore
   */
  onSourceError?: SourceErrorHandler;
}

const DEFAULTS = {
  maxTenantSeries: DEFAULT_MAX_TENANT_SERIES,
  sourceTimeoutMs: 5000,
  latencyBuckets: LATENCY_BUCKETS,
  onSourceError: (() => undefined) as SourceErrorHandler,
};

function isPositiveInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
}

function check(o: RekorMetricsOptions & typeof DEFAULTS): void {
  const bad = (option: string, why: string): never => {
    throw new MetricsError('INVALID_OPTION', `RekorMetrics option ${option}: ${why}`);
  };
  if (!o.registry || typeof o.registry.registerMetric !== 'function') {
    bad('registry', 'pass a prom-client Registry (new Registry()), never the global default registry');
  }
  if (o.registry === globalRegistry) {
    bad('registry', 'is the global default registry; pass a registry of your own (new Registry())');
  }
  if (!isPositiveInt(o.maxTenantSeries))
    bad('maxTenantSeries', `${String(o.maxTenantSeries)} is not a positive integer`);
  if (!isPositiveInt(o.sourceTimeoutMs))
    bad('sourceTimeoutMs', `${String(o.sourceTimeoutMs)} is not a positive integer`);
  const names: unknown = (o as { tenantNames?: unknown }).tenantNames;
  if (
    names !== undefined &&
    (names === null ||
      typeof names !== 'object' ||
      Array.isArray(names) ||
      !Object.values(names).every((v) => typeof v === 'string'))
  )
    bad('tenantNames', 'is not an object of tenant UUID to display name (strings)');
  const b = o.latencyBuckets;
  if (
    !Array.isArray(b) ||
    b.length === 0 ||
    b.some((x, i) => !(x > 0) || !Number.isFinite(x) || (i > 0 && x <= b[i - 1]!))
  ) {
    bad('latencyBuckets', 'must be positive, finite and strictly increasing');
  }
}

/**
 * Every rekor-budget metric on one registry. Counters and the latency
 * histogram are recorded by the caller; queue, offline-queue and budget
 * gauges are read from `sources` when the registry is scraped.
 */
export class RekorMetrics {
  readonly registry: Registry;
  private readonly submissions: SubmissionMetrics;
  private readonly edgeTriggers: EdgeTriggerMetrics;
  private readonly shardSwitches: Counter<'from' | 'to' | 'reason'>;
  private readonly up: Gauge<'log'>;

  constructor(options: RekorMetricsOptions) {
    const o = { ...DEFAULTS, ...stripUndefined(options), registry: options.registry };
    check(o);
    this.registry = o.registry;
    const src = o.sources ?? {};
    const source = <T>(name: keyof MetricsSources, fn: (() => Promise<T>) | undefined) =>
      fn ? new ScrapeSource<T>(name, fn.bind(src), o.sourceTimeoutMs, o.onSourceError) : undefined;

    this.submissions = new SubmissionMetrics(o.registry, o.latencyBuckets);
    new QueueMetrics(o.registry, {
      queueDepth: source('queueDepth', src.queueDepth),
      offlineDepth: source('offlineDepth', src.offlineDepth),
      rejectedDepth: source('rejectedDepth', src.rejectedDepth),
    });
    new BudgetMetrics(o.registry, source('budgets', src.budgets), o.maxTenantSeries, o.tenantNames);
    this.edgeTriggers = new EdgeTriggerMetrics(o.registry);
    this.shardSwitches = register(
      o.registry,
      METRIC_NAMES.shardSwitchesTotal,
      () =>
        new Counter({
          name: METRIC_NAMES.shardSwitchesTotal,
          help: 'Switches of the Rekor log shard written to (from, to: log URLs; reason: frozen or validity).',
          labelNames: ['from', 'to', 'reason'] as const,
          registers: [o.registry],
        }),
    );
    this.up = register(
      o.registry,
      METRIC_NAMES.rekorUp,
      () =>
        new Gauge({
          name: METRIC_NAMES.rekorUp,
          help: 'Whether the log (log: its URL) answered the last probe of this process (the drain probes every offline.probeInterval): 1 or 0; absent before the first probe and on air-gapped sites.',
          labelNames: ['log'] as const,
          registers: [o.registry],
        }),
    );
  }

  /** The result of a probe of the log at `logUrl` (the drain's, every probe interval); only the last log probed keeps a series. */
  rekorProbe(up: boolean, logUrl: string): void {
    this.up.reset();
    this.up.set({ log: logUrl }, up ? 1 : 0);
  }

  /** Count one submission outcome (`created`, `duplicate`, `rejected`, `failed`, `offline`). */
  submission(tier: Tier, status: SubmissionStatus | string): void {
    this.submissions.submission(tier, status);
  }

  /** Record the time from enqueue to receipt, in seconds. */
  latencySeconds(tier: Tier, seconds: number): void {
    this.submissions.latencySeconds(tier, seconds);
  }

  /** Record the latency of a submission enqueued at `enqueuedAt`, receipted at `receiptAt` (default now). */
  latencySince(tier: Tier, enqueuedAt: Date | number, receiptAt?: Date | number): void {
    this.submissions.latencySince(tier, enqueuedAt, receiptAt);
  }

  /** Count one submission refused before reaching Rekor. */
  rejected(tier: Tier, reason: RejectionReason | string): void {
    this.submissions.rejected(tier, reason);
  }

  /** Count one failed request to Rekor. */
  error(tier: Tier, reason: ErrorReason | string): void {
    this.submissions.error(tier, reason);
  }

  /** Count the triggers that escalated one edge bundle. */
  /** The workers moved from one Rekor shard to another (a 405 from a frozen shard, or a validity window). */
  shardSwitch(from: string, to: string, reason: 'frozen' | 'validity'): void {
    this.shardSwitches.inc({ from, to, reason });
  }

  edgeBundleTriggered(...triggers: readonly (EdgeTrigger | string)[]): void {
    this.edgeTriggers.fired(...triggers);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

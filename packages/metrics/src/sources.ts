import type { Tier } from '@rekor-budget/core';
import { MetricsError } from './errors';

/** One tenant's budget, as read at scrape time. */
export interface TenantBudget {
  tenantId: string;
  /** Submissions left in the tenant's rolling hourly budget (Tier 1). */
  remaining: number;
  /** Used / limit of the tenant's binding window, 0..1. */
  utilization: number;
}

/**
 * Scrape-time providers of the gauges, supplied by the process that owns the
 * data (queues in Redis, the offline queue in Postgres, budgets in Redis).
 * Each one is optional: a gauge without its provider exposes no series.
 */
export interface MetricsSources {
  /** Jobs waiting or active per tier queue. */
  queueDepth?(): Promise<Record<Tier, number>>;
  /** Rows of the offline queue (Postgres) per tier. */
  offlineDepth?(): Promise<Record<Tier, number>>;
  /** Rows of the rejected table per tier. */
  rejectedDepth?(): Promise<Record<Tier, number>>;
  /** Budgets of the active tenants. */
  budgets?(): Promise<TenantBudget[]>;
}

export type SourceName = keyof MetricsSources;

/** Called when a provider throws, times out or returns values that are not numbers. */
export type SourceErrorHandler = (source: SourceName, error: MetricsError) => void;

/**
 * Runs a provider with a deadline, and shares one call between every gauge
 * collected in the same scrape (`budgets` feeds two gauges).
 */
export class ScrapeSource<T> {
  private inFlight: Promise<T | undefined> | undefined;

  constructor(
    private readonly name: SourceName,
    private readonly provider: () => Promise<T>,
    private readonly timeoutMs: number,
    private readonly onError: SourceErrorHandler,
  ) {}

  /** The provider's value, or `undefined` after reporting why there is none. */
  read(): Promise<T | undefined> {
    this.inFlight ??= this.run().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Report bad values found by a caller. */
  fail(message: string): void {
    this.onError(this.name, new MetricsError('SOURCE_FAILED', `metrics source ${this.name}: ${message}`));
  }

  private async run(): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`did not answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([Promise.resolve().then(this.provider), deadline]);
    } catch (cause) {
      const detail = cause instanceof Error ? cause.message : String(cause);
      this.onError(
        this.name,
        new MetricsError('SOURCE_FAILED', `metrics source ${this.name} failed: ${detail}`, { cause }),
      );
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A finite, non-negative number, or undefined. */
export function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

import { RekorBudgetError } from '@rekor-budget/core';

/**
 * - `INVALID_OPTION`: an option of `RekorMetrics` or `startMetricsServer` was refused.
 * - `INVALID_LABEL`: a tier that is not `graph` or `edge` was recorded.
 * - `ALREADY_REGISTERED`: the registry already holds a metric of the same name.
 * - `LISTEN_FAILED`: the metrics server could not listen on its host and port.
 * - `SOURCE_FAILED`: a scrape-time source threw, timed out or returned bad values.
 */
export type MetricsErrorCode =
  'INVALID_OPTION' | 'INVALID_LABEL' | 'ALREADY_REGISTERED' | 'LISTEN_FAILED' | 'SOURCE_FAILED';

/** A metrics failure; branch on `code`. */
export class MetricsError extends RekorBudgetError<MetricsErrorCode> {}

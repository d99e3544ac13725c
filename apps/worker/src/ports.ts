import type { RekorConfig } from '@rekor-budget/core';
import type { Budget, QuotaMirror } from '@rekor-budget/budget';
import type { RekorMetrics } from '@rekor-budget/metrics';
import type { ReceiptStore, RekorClient, Signer } from '@rekor-budget/rekor';

/** Everything a tier worker works with; the CLI builds it from the configuration. */
export interface WorkerDeps {
  config: RekorConfig;
  budget: Budget;
  /** Rekor (one log). */
  client: RekorClient;
  signer: Signer;
  receipts: ReceiptStore;
  quota: QuotaMirror;
  metrics?: RekorMetrics;
  /** Epoch ms. @defaultValue Date.now */
  clock?: () => number;
}

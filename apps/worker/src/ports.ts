import type { RekorConfig, Tier } from '@rekor-budget/core';
import type { SubmissionJobData } from '@rekor-budget/producer';

/**
 * What the worker needs from the budget, from Rekor and from the receipt
 * store. The CLI wires the real packages in; the worker only decides what
 * to do with each answer.
 */

export type BudgetAnswer = { admitted: true; unitId: string } | { admitted: false; retryAtMs: number };

export interface BudgetPort {
  tryConsume(tenantId: string, tier: Tier): Promise<BudgetAnswer>;
  /** Gives back a unit whose request never reached Rekor. */
  refund(tenantId: string, tier: Tier, unitId: string): Promise<void>;
}

export interface LoggedEntry {
  uuid: string;
  logIndex: number;
  /** Epoch seconds. */
  integratedTime: number;
  logID: string;
  /** The sigstore bundle (JSON). */
  bundle: unknown;
}

/** Rekor's answer to one POST, classified. */
export type SubmitOutcome =
  | { kind: 'created'; entry: LoggedEntry }
  | { kind: 'duplicate'; entry: LoggedEntry }
  | { kind: 'rate_limited'; retryAfterMs: number }
  | { kind: 'retryable'; reason: string }
  | { kind: 'unreachable'; reason: string }
  | { kind: 'rejected'; status: number; message: string }
  | { kind: 'frozen'; message: string };

export interface RekorPort {
  /** The log's URL, recorded with receipts. */
  readonly logUrl: string;
  /** Signs the submission's statement into a JSON-serializable DSSE envelope. */
  sign(data: SubmissionJobData): Promise<unknown>;
  /** POSTs the envelope; never throws for Rekor or network conditions. */
  submit(envelope: unknown): Promise<SubmitOutcome>;
}

export interface ReceiptPort {
  /** Already in this log? */
  has(contentDigest: string, logUrl: string): Promise<boolean>;
  /** Stores the receipt idempotently. */
  save(data: SubmissionJobData, entry: LoggedEntry, logUrl: string): Promise<void>;
}

export interface QuotaPort {
  record(tenantId: string, tier: Tier, at: Date): Promise<void>;
}

export interface WorkerMetricsPort {
  submitted(tier: Tier, status: string, latencySeconds?: number): void;
  error(tier: Tier, reason: string): void;
  rejected(tier: Tier, reason: string): void;
}

export interface WorkerDeps {
  config: RekorConfig;
  budget: BudgetPort;
  rekor: RekorPort;
  receipts: ReceiptPort;
  quota: QuotaPort;
  metrics?: WorkerMetricsPort;
  /** Epoch ms. @defaultValue Date.now */
  clock?: () => number;
}

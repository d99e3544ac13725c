import type { Tier } from '@rekor-budget/core';
import type { Runtime } from '@rekor-budget/runtime';
import type { Signer } from '@rekor-budget/rekor';

/** What a tier worker takes from its process's runtime. */
export type WorkerRuntime = Pick<
  Runtime,
  | 'config'
  | 'logger'
  | 'keys'
  | 'redis'
  | 'db'
  | 'clock'
  | 'budget'
  | 'quota'
  | 'offline'
  | 'rejected'
  | 'parking'
  | 'lanes'
  | 'receipts'
  | 'client'
  | 'metrics'
>;

/** Everything one tier's processor works with. */
export interface WorkerDeps {
  runtime: WorkerRuntime;
  tier: Tier;
  /** Signs each submission once. */
  signer: Signer;
}

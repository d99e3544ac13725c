import type { Kysely } from 'kysely';
import type { RekorConfig, Sha256Digest, SignedEnvelope, Tier } from '@rekor-budget/core';
import type { Database } from '@rekor-budget/db';
import { backoffDelayMs, createReceiptStore } from '@rekor-budget/queue';
import { receiptFromOutcome, type RekorClient, type SubmitOutcome } from '@rekor-budget/rekor';
import type { KitEntry } from './manifest';
import type { KitLimits } from './files';
import { readKit } from './read-kit';

export interface ImportKitOptions {
  db: Kysely<Database>;
  kitDir: string;
  /** The connected site's Rekor log. */
  client: RekorClient;
  /** Attempts and backoff for `rate_limited`, `retryable` and `unreachable` outcomes. */
  retry: RekorConfig['retry'];
  /** @defaultValue setTimeout-based sleep */
  sleep?: (ms: number) => Promise<void>;
  /** Called after each entry, in kit order. */
  onEntry?: (result: ImportedEntry) => void;
  /** The air-gapped site's signing public key(s), PEM: every envelope must be signed by one. */
  trustedKeys: readonly string[];
  /** @defaultValue DEFAULT_KIT_LIMITS */
  limits?: Partial<KitLimits>;
}

/** What became of one kit entry. */
export type ImportedEntry = {
  id: string;
  tenantId: string;
  tier: Tier;
  contentDigest: Sha256Digest;
} & (
  | { status: 'created' | 'duplicate'; uuid: string; logIndex: number; receiptStored: boolean }
  | {
      status: 'failed';
      /** The last outcome kind, or `not_attempted` after the log became unreachable. */
      outcome: SubmitOutcome['kind'] | 'not_attempted';
      reason: string;
      attempts: number;
    }
);

export interface ImportKitReport {
  manifestDigest: Sha256Digest;
  logUrl: string;
  entries: ImportedEntry[];
  created: number;
  duplicate: number;
  failed: number;
}

const RETRIED = new Set<SubmitOutcome['kind']>(['rate_limited', 'retryable', 'unreachable']);

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function reasonOf(o: Exclude<SubmitOutcome, { kind: 'created' | 'duplicate' }>): string {
  if (o.kind === 'unreachable') return `the log at ${o.logUrl} is unreachable (${o.code}): ${o.message}`;
  if (o.kind === 'retryable')
    return `the log answered with a retryable error (${o.status ?? o.code}): ${o.message}`;
  if (o.kind === 'rate_limited') return `the log rate-limited the import (429): ${o.message}`;
  if (o.kind === 'invalid_response') return `the log's answer was malformed: ${o.message}`;
  return `the log refused the entry (HTTP ${o.status}): ${o.message}`;
}

/**
 * Imports a kit on a connected site. The kit is verified completely first
 * (`readKit`: plain files within limits, digests, every envelope signed by a
 * trusted key); nothing is sent or stored if any check fails. Then each
 * envelope is sent as it was signed, so a kit imported twice yields
 * `duplicate` and no second log entry, and each receipt is stored
 * (idempotently) with the receipts. Transient outcomes are retried
 * with the configured backoff; what still fails is reported, and the kit can
 * simply be imported again.
 */
export async function importKit(options: ImportKitOptions): Promise<ImportKitReport> {
  const kit = await readKit(options.kitDir, {
    trustedKeys: options.trustedKeys,
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const { client, retry } = options;
  const sleep = options.sleep ?? defaultSleep;
  const receipts = createReceiptStore(options.db);
  const entries: ImportedEntry[] = [];
  let unreachable = false;

  const submit = async (envelope: SignedEnvelope) => {
    let attempts = 0;
    for (;;) {
      attempts += 1;
      const outcome = await client.submit(envelope);
      if (!RETRIED.has(outcome.kind) || attempts >= retry.maxAttempts) return { outcome, attempts };
      const wait =
        outcome.kind === 'rate_limited' && outcome.retryAfterMs !== undefined
          ? Math.min(outcome.retryAfterMs, retry.maxDelayMs)
          : backoffDelayMs(retry, attempts);
      await sleep(wait);
    }
  };

  for (const { entry, envelope } of kit.entries) {
    const base = idOf(entry);
    let result: ImportedEntry;
    if (unreachable) {
      result = {
        ...base,
        status: 'failed',
        outcome: 'not_attempted',
        reason: `not attempted: the log at ${client.logUrl} is unreachable`,
        attempts: 0,
      };
    } else {
      const { outcome, attempts } = await submit(envelope);
      if (outcome.kind === 'created' || outcome.kind === 'duplicate') {
        const receiptStored = await receipts.save(receiptFromOutcome(outcome, base));
        result = {
          ...base,
          status: outcome.kind,
          uuid: outcome.entry.uuid,
          logIndex: outcome.entry.logIndex,
          receiptStored,
        };
      } else {
        unreachable = outcome.kind === 'unreachable';
        result = { ...base, status: 'failed', outcome: outcome.kind, reason: reasonOf(outcome), attempts };
      }
    }
    entries.push(result);
    options.onEntry?.(result);
  }
  const count = (s: ImportedEntry['status']) => entries.filter((e) => e.status === s).length;
  return {
    manifestDigest: kit.manifest.manifestDigest,
    logUrl: client.logUrl,
    entries,
    created: count('created'),
    duplicate: count('duplicate'),
    failed: count('failed'),
  };
}

function idOf(entry: KitEntry) {
  return { id: entry.id, tenantId: entry.tenantId, tier: entry.tier, contentDigest: entry.contentDigest };
}

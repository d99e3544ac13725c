import type { Kysely } from 'kysely';
import {
  errorFields,
  RekorBudgetError,
  type Sha256Digest,
  type SignedEnvelope,
  type Tier,
} from '@rekor-budget/core';
import type { Database } from '@rekor-budget/db';
import { createEnvelopeStore, createReceiptStore, RejectedStore } from '@rekor-budget/queue';
import type { Statement } from '@rekor-budget/rekor';
import { inputOfStatement } from './envelope-check';
import type { KitEntry } from './manifest';
import type { KitLimits } from './files';
import { readKit } from './read-kit';

/**
 * What the import needs of the producer (`RekorProducer` of
 * @rekor-budget/producer fits): the kit's attestations enter the tier
 * queues exactly as a scanner's would.
 */
export interface KitSubmitter {
  submitGraphAttestation(input: unknown): Promise<KitSubmitResult>;
  submitEdgeBundle(input: unknown): Promise<KitSubmitResult>;
}

/** The part of the producer's `SubmitResult` the import reports. */
export interface KitSubmitResult {
  jobId: string;
  status: 'queued' | 'duplicate' | 'overflowed' | 'rejected';
  contentDigest: Sha256Digest;
}

export interface ImportKitOptions {
  db: Kysely<Database>;
  kitDir: string;
  /** The connected site's producer: each entry is submitted through the tier queues. */
  producer: KitSubmitter;
  /** The air-gapped site's signing public key(s), PEM: every envelope must be signed by one. */
  trustedKeys: readonly string[];
  /** @defaultValue DEFAULT_KIT_LIMITS */
  limits?: Partial<KitLimits>;
  /** Called after each entry, in kit order. */
  onEntry?: (result: ImportedEntry) => void;
}

/**
 * What became of one kit entry:
 * - `queued`: in the tier queue; a worker logs it under the tenant's budget.
 * - `overflowed`: the tier queue is full; kept in the offline queue, the drain moves it on.
 * - `pending`: this content is already queued or waiting offline here (an earlier import).
 * - `logged`: this content already has a receipt here.
 * - `rejected`: the log refused this content for good earlier (`rekor-budget rejected list`).
 * - `failed`: this site would not submit it (`code` says why); nothing was queued for it.
 */
export type ImportedEntry = {
  id: string;
  tenantId: string;
  tier: Tier;
  contentDigest: Sha256Digest;
  /** The kit's own envelope is the one sent (false: this site holds an earlier envelope of the same content). */
  kitEnvelope: boolean;
} & (
  | { status: 'queued' | 'overflowed' | 'pending' | 'rejected'; jobId: string }
  | { status: 'logged'; jobId: string; uuid: string; logIndex: number; logUrl: string }
  | { status: 'failed'; code: string; reason: string }
);

export type ImportStatus = ImportedEntry['status'];

export interface ImportKitReport {
  manifestDigest: Sha256Digest;
  entries: ImportedEntry[];
  /** Entries per status. */
  counts: Record<ImportStatus, number>;
}

const STATUSES: readonly ImportStatus[] = ['queued', 'overflowed', 'pending', 'logged', 'rejected', 'failed'];

function countOf(entries: readonly ImportedEntry[]): Record<ImportStatus, number> {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ImportStatus, number>;
  for (const e of entries) counts[e.status] += 1;
  return counts;
}

function sameEnvelope(a: SignedEnvelope, b: SignedEnvelope): boolean {
  return (
    a.envelope.payload === b.envelope.payload &&
    a.envelope.signatures.length === b.envelope.signatures.length &&
    a.envelope.signatures.every((s, i) => s.sig === b.envelope.signatures[i]?.sig)
  );
}

/**
 * Imports a kit on a connected site. The kit is verified completely first
 * (`readKit`: plain files within limits, digests, every envelope signed by a
 * trusted key); nothing is stored or queued if any check fails. Then each
 * entry goes where a scanner's submission goes: its envelope is stored as
 * the content's one envelope (so the workers send exactly the bytes the
 * air-gapped site signed), and its attestation, rebuilt from the signed
 * statement, is submitted through the producer into the tier queue. The
 * workers then log it under the tenant's budget, with metrics, retries and
 * the 429 pause; a kit imported twice queues nothing twice.
 * `awaitKitReceipts` waits for the receipts.
 */
export async function importKit(options: ImportKitOptions): Promise<ImportKitReport> {
  const kit = await readKit(options.kitDir, {
    trustedKeys: options.trustedKeys,
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const envelopes = createEnvelopeStore(options.db);
  const receipts = createReceiptStore(options.db);
  const entries: ImportedEntry[] = [];
  for (const { entry, envelope } of kit.entries) {
    const result = await importEntry(entry, envelope);
    entries.push(result);
    options.onEntry?.(result);
  }
  return { manifestDigest: kit.manifest.manifestDigest, entries, counts: countOf(entries) };

  async function importEntry(entry: KitEntry, envelope: SignedEnvelope): Promise<ImportedEntry> {
    const base = {
      id: entry.id,
      tenantId: entry.tenantId,
      tier: entry.tier,
      contentDigest: entry.contentDigest,
    };
    const statement = JSON.parse(
      Buffer.from(envelope.envelope.payload, 'base64').toString('utf8'),
    ) as Statement;
    const input = {
      ...inputOfStatement(statement),
      ...(entry.priority === undefined ? {} : { priority: entry.priority }),
    };
    // stored before the submission, so no worker signs a second envelope of this content
    const stored = await envelopes.obtain(base, () => envelope);
    const kitEnvelope = sameEnvelope(stored, envelope);
    let r: KitSubmitResult;
    try {
      r =
        entry.tier === 'graph'
          ? await options.producer.submitGraphAttestation(input)
          : await options.producer.submitEdgeBundle(input);
    } catch (e) {
      if (!(e instanceof RekorBudgetError)) throw e;
      return { ...base, kitEnvelope, status: 'failed', code: e.code, reason: e.message };
    }
    if (r.contentDigest !== entry.contentDigest) {
      // inputOfStatement and the producer disagree: a defect, never a reason to queue other content
      throw new Error(
        `the attestation rebuilt from ${entry.file} digests to ${r.contentDigest}, not ${entry.contentDigest}`,
      );
    }
    if (r.status === 'duplicate') {
      const receipt = await receipts.findAny(r.contentDigest);
      if (receipt) {
        return {
          ...base,
          kitEnvelope,
          status: 'logged',
          jobId: r.jobId,
          uuid: receipt.uuid,
          logIndex: receipt.logIndex,
          logUrl: receipt.logUrl,
        };
      }
      return { ...base, kitEnvelope, status: 'pending', jobId: r.jobId };
    }
    return { ...base, kitEnvelope, status: r.status, jobId: r.jobId };
  }
}

export interface AwaitKitReceiptsOptions {
  db: Kysely<Database>;
  /** The entries of an import report. */
  entries: readonly ImportedEntry[];
  /** Give up after this long (the workers go on). */
  timeoutMs: number;
  /** How often Postgres is asked. @defaultValue 500 */
  pollMs?: number;
  /** Called whenever the number of logged entries changes. */
  onProgress?: (logged: number, rejected: number, of: number) => void;
  /** Where a failed look-up is reported before the next one. */
  onLookupError?: (fields: Record<string, unknown>) => void;
}

export interface AwaitKitReceiptsResult {
  /** Entries with a receipt. */
  logged: number;
  /** Entries the log refused for good (in the rejected table). */
  rejected: number;
  /** Entries still waiting when the time ran out. */
  waiting: Sha256Digest[];
}

/**
 * Waits until every entry that went into the queues (`queued`,
 * `overflowed`, `pending`, `logged`) has a receipt or was refused for good,
 * or `timeoutMs` passes. Entries that `failed` are not waited for.
 */
export async function awaitKitReceipts(options: AwaitKitReceiptsOptions): Promise<AwaitKitReceiptsResult> {
  const receipts = createReceiptStore(options.db);
  const refused = new RejectedStore(options.db);
  const pollMs = options.pollMs ?? 500;
  const deadline = Date.now() + options.timeoutMs;
  const open = new Set(options.entries.filter((e) => e.status !== 'failed').map((e) => e.contentDigest));
  const of = open.size;
  let logged = 0;
  let rejected = 0;
  for (;;) {
    const before = logged + rejected;
    try {
      // one query per table and poll, however many entries are still open
      const waiting = [...open];
      const [withReceipt, refusedNow] = await Promise.all([
        receipts.hasAny(waiting),
        refused.hasAny(waiting),
      ]);
      for (const digest of waiting) {
        if (withReceipt.has(digest)) {
          open.delete(digest);
          logged += 1;
        } else if (refusedNow.has(digest)) {
          open.delete(digest);
          rejected += 1;
        }
      }
    } catch (e) {
      options.onLookupError?.(errorFields(e));
    }
    if (logged + rejected !== before) options.onProgress?.(logged, rejected, of);
    if (open.size === 0 || Date.now() >= deadline) return { logged, rejected, waiting: [...open] };
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
  }
}

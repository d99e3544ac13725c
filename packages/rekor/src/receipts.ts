import type { Kysely } from 'kysely';
import type { Sha256Digest, Tier } from '@rekor-budget/core';
import type { Database, RekorEntry } from '@rekor-budget/db';
import type { SerializedBundle } from '@sigstore/bundle';
import type { SubmitOutcome } from './outcome';

/** Rekor's proof that a submission is in a log, as kept in `attestor.rekor_entries`. */
export interface RekorReceipt {
  tenantId: string;
  tier: Tier;
  /** The submission's identity. */
  contentDigest: Sha256Digest;
  uuid: string;
  logIndex: number;
  integratedTime: Date;
  /** The log's id, hex. */
  logId: string;
  logUrl: string;
  /** The sigstore bundle (JSON), verifiable offline. */
  bundle: SerializedBundle;
}

export interface ListReceiptsOptions {
  tenantId?: string;
  /** @defaultValue 100 */
  limit?: number;
}

/** Receipts in Postgres; one per submission and log. */
export interface ReceiptStore {
  /** Saves a receipt; `true` if new, `false` if the (contentDigest, logUrl) receipt already existed. */
  save(receipt: RekorReceipt): Promise<boolean>;
  find(contentDigest: string, logUrl: string): Promise<RekorReceipt | undefined>;
  /** Newest first. */
  list(options?: ListReceiptsOptions): Promise<RekorReceipt[]>;
}

/** The receipt of a `created` or `duplicate` outcome. */
export function receiptFromOutcome(
  outcome: Extract<SubmitOutcome, { kind: 'created' | 'duplicate' }>,
  submission: { tenantId: string; tier: Tier; contentDigest: Sha256Digest },
): RekorReceipt {
  return {
    tenantId: submission.tenantId,
    tier: submission.tier,
    contentDigest: submission.contentDigest,
    uuid: outcome.entry.uuid,
    logIndex: outcome.entry.logIndex,
    integratedTime: new Date(outcome.entry.integratedTime * 1000),
    logId: outcome.entry.logId,
    logUrl: outcome.logUrl,
    bundle: outcome.bundle,
  };
}

function fromRow(row: RekorEntry): RekorReceipt {
  return {
    tenantId: row.tenant_id,
    tier: row.tier,
    contentDigest: row.content_digest as Sha256Digest,
    uuid: row.rekor_uuid,
    logIndex: row.log_index,
    integratedTime: row.integrated_time,
    logId: row.log_id,
    logUrl: row.log_url,
    bundle: row.bundle as SerializedBundle,
  };
}

export function createReceiptStore(db: Kysely<Database>): ReceiptStore {
  const table = 'attestor.rekor_entries' as const;
  return {
    async save(r) {
      const inserted = await db
        .insertInto(table)
        .values({
          tenant_id: r.tenantId,
          tier: r.tier,
          content_digest: r.contentDigest,
          rekor_uuid: r.uuid,
          log_index: r.logIndex,
          integrated_time: r.integratedTime,
          log_id: r.logId,
          log_url: r.logUrl,
          bundle: JSON.stringify(r.bundle),
        })
        .onConflict((oc) => oc.columns(['content_digest', 'log_url']).doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted !== undefined;
    },
    async find(contentDigest, logUrl) {
      const row = await db
        .selectFrom(table)
        .selectAll()
        .where('content_digest', '=', contentDigest)
        .where('log_url', '=', logUrl)
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async list(options = {}) {
      let q = db.selectFrom(table).selectAll();
      if (options.tenantId !== undefined) q = q.where('tenant_id', '=', options.tenantId);
      const rows = await q
        .orderBy('created_at', 'desc')
        .orderBy('log_index', 'desc')
        .limit(options.limit ?? 100)
        .execute();
      return rows.map(fromRow);
    },
  };
}

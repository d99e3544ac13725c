import { sql, type Kysely } from 'kysely';
import type { Receipt, Sha256Digest } from '@rekor-budget/core';
import type { Database, RekorEntry } from '@rekor-budget/db';
import { contentsIn } from './content-rows';

export interface ListReceiptsOptions {
  tenantId?: string;
  /** Only receipts stored at or after this time. */
  since?: Date;
  /** At most this many; `null` for all. @defaultValue 100 */
  limit?: number | null;
  /** @defaultValue 'newest' (newest first) */
  order?: 'newest' | 'oldest';
}

/** `attestor.rekor_entries`: receipts in Postgres, one per submission and log. */
export interface ReceiptStore {
  /** Saves a receipt; `true` if new, `false` if the (contentDigest, logUrl) receipt already existed. */
  save(receipt: Receipt): Promise<boolean>;
  find(contentDigest: string, logUrl: string): Promise<Receipt | undefined>;
  /** Whether the content has a receipt from any log. */
  has(contentDigest: string): Promise<boolean>;
  /** The content's first receipt, from whichever log. */
  findAny(contentDigest: string): Promise<Receipt | undefined>;
  /** The contents among `digests` with a receipt from any log. */
  hasAny(digests: readonly string[]): Promise<Set<string>>;
  list(options?: ListReceiptsOptions): Promise<Receipt[]>;
  /** Receipts stored, in all. */
  count(): Promise<number>;
}

const TABLE = 'attestor.rekor_entries';

function fromRow(row: RekorEntry): Receipt {
  return {
    tenantId: row.tenant_id,
    tier: row.tier,
    contentDigest: row.content_digest as Sha256Digest,
    uuid: row.rekor_uuid,
    logIndex: row.log_index,
    integratedTime: row.integrated_time,
    logId: row.log_id,
    logUrl: row.log_url,
    bundle: row.bundle,
  };
}

/** The receipt store on a database (or a transaction); the caller owns `db`. */
export function createReceiptStore(db: Kysely<Database>): ReceiptStore {
  return {
    async save(r) {
      const inserted = await db
        .insertInto(TABLE)
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
        .selectFrom(TABLE)
        .selectAll()
        .where('content_digest', '=', contentDigest)
        .where('log_url', '=', logUrl)
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async findAny(contentDigest) {
      const row = await db
        .selectFrom(TABLE)
        .selectAll()
        .where('content_digest', '=', contentDigest)
        .orderBy('id', 'asc')
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async has(contentDigest) {
      return (await contentsIn(db, TABLE, [contentDigest])).has(contentDigest);
    },
    hasAny: (digests) => contentsIn(db, TABLE, digests),

    async list(options = {}) {
      let q = db.selectFrom(TABLE).selectAll();
      if (options.tenantId !== undefined) q = q.where('tenant_id', '=', options.tenantId);
      if (options.since !== undefined) q = q.where('created_at', '>=', options.since);
      const dir = options.order === 'oldest' ? 'asc' : 'desc';
      q = q.orderBy('created_at', dir).orderBy('log_index', dir);
      const limit = options.limit === undefined ? 100 : options.limit;
      if (limit !== null) q = q.limit(limit);
      return (await q.execute()).map(fromRow);
    },
    async count() {
      const row = await db
        .selectFrom(TABLE)
        .select(sql<number>`count(*)::int`.as('n'))
        .executeTakeFirstOrThrow();
      return row.n;
    },
  };
}

import { sql, type Kysely, type Transaction } from 'kysely';
import type { SignedEnvelope, Tier } from '@rekor-budget/core';
import type { Database, OfflineReason, OfflineRow } from '@rekor-budget/db';
import { contentsIn, countByTenant, readInIndexOrder } from './content-rows';
import type { SubmissionJobData } from './jobs';

export interface OfflineAddResult {
  id: string;
  /** false when a row with the same content digest was already there. */
  inserted: boolean;
}

/** Which rows a claim or a listing takes. Every field narrows; none means all rows. */
export interface OfflineFilter {
  tier?: Tier;
  reasons?: OfflineReason[];
  /** `false`: rows not yet written into an offline kit; `true`: rows that were. */
  exported?: boolean;
  /** `false`: rows still waiting to be signed; `true`: rows that carry their envelope. */
  signed?: boolean;
}

/** Rows of one tier and reason. */
export interface OfflineCount {
  tier: Tier;
  reason: OfflineReason;
  rows: number;
}

const TABLE = 'attestor.rekor_offline_queue';

/**
 * `attestor.rekor_offline_queue`: submissions waiting outside Redis (backlog
 * overflow, Redis or Rekor away, air-gapped sites). The only code that reads
 * or writes the table.
 */
export class OfflineQueue {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Stores a submission once per content digest.
   *
   * `takeOver` is for a job of the queue that goes offline (Rekor away, its
   * attempts spent): a row of its content still there is taken over under a
   * new id, and waits for a drain that holds it to end first. That row may be
   * the very one a drain moved into this job and is about to delete: kept as
   * it is, the drain's delete would remove the only copy. @defaultValue false:
   * the row is kept as it is (the producer's second copy is a duplicate).
   */
  async add(
    data: SubmissionJobData,
    reason: OfflineReason,
    options: { takeOver?: boolean } = {},
  ): Promise<OfflineAddResult> {
    const { envelope, wakes: _d, ...rest } = data;
    const inserted = await this.db
      .insertInto(TABLE)
      .values({
        tenant_id: data.input.tenantId,
        tier: data.tier,
        payload: Buffer.from(JSON.stringify(rest)),
        priority: data.input.priority ?? 0,
        content_digest: data.contentDigest,
        reason,
        envelope: envelope === undefined ? null : Buffer.from(JSON.stringify(envelope)),
      })
      .onConflict((oc) =>
        options.takeOver
          ? oc.column('content_digest').doUpdateSet({
              id: sql<string>`DEFAULT`,
              reason: (eb) => eb.ref('excluded.reason'),
              payload: (eb) => eb.ref('excluded.payload'),
              envelope: sql`COALESCE(excluded.envelope, ${sql.table(TABLE)}.envelope)`,
            })
          : oc.column('content_digest').doNothing(),
      )
      .returning('id')
      .executeTakeFirst();
    if (inserted) return { id: inserted.id, inserted: true };
    const existing = await this.db
      .selectFrom(TABLE)
      .select('id')
      .where('content_digest', '=', data.contentDigest)
      .executeTakeFirst();
    return { id: existing?.id ?? '', inserted: false };
  }

  /**
   * Locks up to `limit` rows in drain order (priority desc, then oldest),
   * skipping rows another transaction holds. Call inside a transaction and
   * delete or update each row before it commits.
   */
  async claim(trx: Transaction<Database>, limit: number, filter: OfflineFilter = {}): Promise<OfflineRow[]> {
    await readInIndexOrder(trx);
    return this.select(trx, filter).limit(limit).forUpdate().skipLocked().execute();
  }

  /** Rows in drain order, without locking them (for reports and tests). */
  async list(filter: OfflineFilter = {}, limit?: number): Promise<OfflineRow[]> {
    const q = this.select(this.db, filter);
    return (limit === undefined ? q : q.limit(limit)).execute();
  }

  /** Stores the envelope a claimed row was signed into. */
  async setEnvelope(trx: Transaction<Database>, id: string, envelope: SignedEnvelope): Promise<void> {
    await trx
      .updateTable(TABLE)
      .set({ envelope: Buffer.from(JSON.stringify(envelope)) })
      .where('id', '=', id)
      .execute();
  }

  /** Marks claimed rows as written into an offline kit at `at`. */
  async markExported(trx: Transaction<Database>, ids: string[], at: Date): Promise<void> {
    if (ids.length === 0) return;
    await trx.updateTable(TABLE).set({ exported_at: at }).where('id', 'in', ids).execute();
  }

  async delete(trx: Transaction<Database> | Kysely<Database>, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await trx.deleteFrom(TABLE).where('id', 'in', ids).execute();
  }

  /**
   * Closes the rows whose receipts arrived from a connected site: rows of
   * these content digests that are air-gapped or were exported in a kit.
   * Returns how many were closed.
   */
  async closeAnswered(trx: Transaction<Database>, contentDigests: string[]): Promise<number> {
    if (contentDigests.length === 0) return 0;
    const res = await trx
      .deleteFrom(TABLE)
      .where('content_digest', 'in', contentDigests)
      .where((eb) => eb.or([eb('reason', '=', 'air_gapped'), eb('exported_at', 'is not', null)]))
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Whether a content waits here. */
  async has(contentDigest: string): Promise<boolean> {
    return (await contentsIn(this.db, TABLE, [contentDigest])).has(contentDigest);
  }

  /** Whether a row not written into a kit waits for `reason`. */
  async waitsFor(reason: OfflineReason): Promise<boolean> {
    const row = await this.db
      .selectFrom(TABLE)
      .select('id')
      .where('reason', '=', reason)
      .where('exported_at', 'is', null)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The contents among `digests` kept here. */
  hasAny(digests: readonly string[]): Promise<Set<string>> {
    return contentsIn(this.db, TABLE, digests);
  }

  /** Rows per tier. */
  async depth(): Promise<Record<Tier, number>> {
    const out: Record<Tier, number> = { graph: 0, edge: 0 };
    for (const c of await this.counts()) out[c.tier] += c.rows;
    return out;
  }

  /** Rows in all. */
  async size(): Promise<number> {
    return (await this.counts()).reduce((a, c) => a + c.rows, 0);
  }

  /** Rows per tier and reason, by tier. */
  async counts(): Promise<OfflineCount[]> {
    return this.db
      .selectFrom(TABLE)
      .select(['tier', 'reason', sql<number>`count(*)::int`.as('rows')])
      .groupBy(['tier', 'reason'])
      .orderBy('tier')
      .orderBy('reason')
      .execute();
  }

  /** Rows per tenant (lower-case id), for the given tenants. */
  countByTenant(tenantIds: string[]): Promise<Map<string, number>> {
    return countByTenant(this.db, TABLE, tenantIds);
  }

  /** Decodes a row back into job data. */
  static decode(row: OfflineRow): SubmissionJobData {
    const data = JSON.parse(row.payload.toString('utf8')) as SubmissionJobData;
    if (row.envelope) data.envelope = JSON.parse(row.envelope.toString('utf8')) as SignedEnvelope;
    return data;
  }

  private select(db: Kysely<Database>, filter: OfflineFilter) {
    let q = db.selectFrom(TABLE).selectAll();
    if (filter.tier) q = q.where('tier', '=', filter.tier);
    if (filter.reasons) q = q.where('reason', 'in', filter.reasons);
    if (filter.exported !== undefined) q = q.where('exported_at', filter.exported ? 'is not' : 'is', null);
    if (filter.signed !== undefined) q = q.where('envelope', filter.signed ? 'is not' : 'is', null);
    return q.orderBy('priority', 'desc').orderBy('created_at', 'asc');
  }
}

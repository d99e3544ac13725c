import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, OfflineReason, OfflineRow } from '@rekor-budget/db';
import type { Tier } from '@rekor-budget/core';
import type { SubmissionJobData } from './jobs';

export interface OfflineAddResult {
  id: string;
  /** false when a row with the same content digest was already there. */
  inserted: boolean;
}

/** `attestor.rekor_offline_queue`: submissions waiting outside Redis. */
export class OfflineQueue {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a submission once per content digest. */
  async add(data: SubmissionJobData, reason: OfflineReason): Promise<OfflineAddResult> {
    const { envelope, budgetDelays: _d, ...rest } = data;
    const inserted = await this.db
      .insertInto('attestor.rekor_offline_queue')
      .values({
        tenant_id: data.input.tenantId,
        tier: data.tier,
        payload: Buffer.from(JSON.stringify(rest)),
        priority: data.input.priority ?? 0,
        content_digest: data.contentDigest,
        reason,
        envelope: envelope === undefined ? null : Buffer.from(JSON.stringify(envelope)),
      })
      .onConflict((oc) => oc.column('content_digest').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return { id: inserted.id, inserted: true };
    const existing = await this.db
      .selectFrom('attestor.rekor_offline_queue')
      .select('id')
      .where('content_digest', '=', data.contentDigest)
      .executeTakeFirst();
    return { id: existing?.id ?? '', inserted: false };
  }

  /**
   * Locks up to `limit` rows in drain order (priority desc, then oldest),
   * skipping rows another drainer holds. Call inside a transaction and
   * delete each row once its job is safely in Redis.
   */
  async claim(
    trx: Transaction<Database>,
    limit: number,
    filter: { reasons?: OfflineReason[]; exported?: boolean; tier?: Tier } = {},
  ): Promise<OfflineRow[]> {
    let q = trx.selectFrom('attestor.rekor_offline_queue').selectAll();
    if (filter.tier) q = q.where('tier', '=', filter.tier);
    if (filter.reasons) q = q.where('reason', 'in', filter.reasons);
    if (filter.exported === false) q = q.where('exported_at', 'is', null);
    return q
      .orderBy('priority', 'desc')
      .orderBy('created_at', 'asc')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
  }

  async delete(trx: Transaction<Database> | Kysely<Database>, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await trx.deleteFrom('attestor.rekor_offline_queue').where('id', 'in', ids).execute();
  }

  /** Rows per tier. */
  async depth(): Promise<Record<Tier, number>> {
    const rows = await this.db
      .selectFrom('attestor.rekor_offline_queue')
      .select(['tier', sql<number>`count(*)::int`.as('n')])
      .groupBy('tier')
      .execute();
    const out: Record<Tier, number> = { graph: 0, edge: 0 };
    for (const r of rows) out[r.tier] = r.n;
    return out;
  }

  /** Decodes a row back into job data. */
  static decode(row: OfflineRow): SubmissionJobData {
    const data = JSON.parse(row.payload.toString('utf8')) as SubmissionJobData;
    if (row.envelope) data.envelope = JSON.parse(row.envelope.toString('utf8'));
    return data;
  }
}

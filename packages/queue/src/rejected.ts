import { sql, type Kysely } from 'kysely';
import type { SignedEnvelope } from '@rekor-budget/core';
import type { Database, RejectedRow, RejectionReason } from '@rekor-budget/db';
import { contentsIn, countByTenant } from './content-rows';
import type { SubmissionJobData } from './jobs';

/** Why and where a submission was refused for good. */
export interface Rejection {
  reason: RejectionReason;
  /** Rekor's HTTP status, when it answered. */
  httpStatus?: number;
  /** Rekor's (or the validation's) explanation. */
  message: string;
  logUrl: string;
}

/** A refused submission as an operator sees it. */
export interface RejectedSubmission extends Rejection {
  id: string;
  tenantId: string;
  tier: RejectedRow['tier'];
  contentDigest: string;
  rejectedAt: Date;
  data: SubmissionJobData;
  envelope?: SignedEnvelope;
}

const TABLE = 'attestor.rekor_rejected';

function fromRow(row: RejectedRow): RejectedSubmission {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    tier: row.tier,
    contentDigest: row.content_digest,
    reason: row.reason,
    ...(row.http_status === null ? {} : { httpStatus: row.http_status }),
    message: row.message,
    logUrl: row.log_url,
    rejectedAt: row.rejected_at,
    data: JSON.parse(row.payload.toString('utf8')) as SubmissionJobData,
    ...(row.envelope ? { envelope: JSON.parse(row.envelope.toString('utf8')) as SignedEnvelope } : {}),
  };
}

/**
 * `attestor.rekor_rejected`: submissions Rekor refused for good (400/413/422,
 * a frozen shard, a malformed answer) or that do not validate. Nothing waits
 * here silently: an operator lists, retries or discards them.
 */
export class RejectedStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Keeps a refused submission (once per content: a second refusal updates the reason). */
  async add(data: SubmissionJobData, rejection: Rejection, envelope?: SignedEnvelope): Promise<void> {
    const { envelope: _e, wakes: _w, ...submission } = data;
    const values = {
      tenant_id: data.input.tenantId,
      tier: data.tier,
      content_digest: data.contentDigest,
      reason: rejection.reason,
      http_status: rejection.httpStatus ?? null,
      message: rejection.message.slice(0, 2000),
      log_url: rejection.logUrl,
      payload: Buffer.from(JSON.stringify(submission)),
      envelope: envelope === undefined ? null : Buffer.from(JSON.stringify(envelope)),
    };
    await this.db
      .insertInto(TABLE)
      .values(values)
      .onConflict((oc) =>
        oc.column('content_digest').doUpdateSet({
          reason: values.reason,
          http_status: values.http_status,
          message: values.message,
          log_url: values.log_url,
          rejected_at: sql<Date>`NOW()`,
        }),
      )
      .execute();
  }

  /** Newest first, optionally one tenant's. */
  async list(options: { tenantId?: string; limit?: number } = {}): Promise<RejectedSubmission[]> {
    let q = this.db.selectFrom(TABLE).selectAll();
    if (options.tenantId !== undefined) q = q.where('tenant_id', '=', options.tenantId);
    const rows = await q
      .orderBy('rejected_at', 'desc')
      .limit(options.limit ?? 100)
      .execute();
    return rows.map(fromRow);
  }

  async get(id: string): Promise<RejectedSubmission | undefined> {
    const row = await this.db.selectFrom(TABLE).selectAll().where('id', '=', id).executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  /** Whether a content kept here. */
  async has(contentDigest: string): Promise<boolean> {
    return (await contentsIn(this.db, TABLE, [contentDigest])).has(contentDigest);
  }

  /** The contents among `digests` kept here. */
  hasAny(digests: readonly string[]): Promise<Set<string>> {
    return contentsIn(this.db, TABLE, digests);
  }

  /** Removes a row (after a retry took it, or a discard); whether it was there. */
  async remove(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom(TABLE).where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Rows per tenant (lower-case id), for the given tenants. */
  countByTenant(tenantIds: string[]): Promise<Map<string, number>> {
    return countByTenant(this.db, TABLE, tenantIds);
  }

  /** Rows in all, per tier. */
  async depth(): Promise<Record<RejectedRow['tier'], number>> {
    const rows = await this.db
      .selectFrom(TABLE)
      .select(['tier', sql<number>`count(*)::int`.as('n')])
      .groupBy('tier')
      .execute();
    const out = { graph: 0, edge: 0 };
    for (const r of rows) out[r.tier] = r.n;
    return out;
  }
}

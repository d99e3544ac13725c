import { sql, type Kysely } from 'kysely';
import type { SignedEnvelope, Tier } from '@rekor-budget/core';
import type { Database, ParkedRow } from '@rekor-budget/db';
import { readInIndexOrder } from './content-rows';
import type { SubmissionJobData } from './jobs';

const TABLE = 'attestor.rekor_parked';
/** Rows per INSERT statement when parking many at once. */
const INSERT_BATCH = 2_000;

/** A parked job, decoded. */
export interface ParkedJob {
  /** The row id (arrival order). */
  id: string;
  data: SubmissionJobData;
  /** Releases so far. */
  wakes: number;
}

/** Parked jobs of one tenant and tier. */
export interface LaneCount {
  tenantId: string;
  tier: Tier;
  parked: number;
}

/**
 * `attestor.rekor_parked`: jobs the budget refused, waiting outside Redis in
 * one lane per (tier, tenant), in the tenant's order (priority, then
 * arrival). The scheduler releases a lane's head into the tier queue only
 * when the budget holds a unit for it. The only code that names the table.
 */
export class ParkingLot {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Parks jobs, once per content digest (a replay parks nothing twice).
   * Returns the number of rows added (or taken over) per tenant (lower-case id).
   *
   * `takeOver` is for a released job the budget refused again: a row of its
   * content still there (the release's delete had not run, or failed) is
   * taken over under a new row id, keeping its place in the lane, so the
   * scheduler's pending delete of the old id removes nothing and the next
   * release gets a job id of its own. @defaultValue false: the row is kept
   * as it is (a producer's second copy of parked content is a duplicate).
   */
  async park(
    jobs: readonly SubmissionJobData[],
    options: { takeOver?: boolean } = {},
  ): Promise<Map<string, number>> {
    const added = new Map<string, number>();
    for (let i = 0; i < jobs.length; i += INSERT_BATCH) {
      const batch = jobs.slice(i, i + INSERT_BATCH);
      const rows = await this.db
        .insertInto(TABLE)
        .values(
          batch.map((data) => {
            const { envelope, wakes, ...rest } = data;
            return {
              tenant_id: data.input.tenantId,
              tier: data.tier,
              priority: data.input.priority ?? 0,
              content_digest: data.contentDigest,
              payload: Buffer.from(JSON.stringify(rest)),
              envelope: envelope === undefined ? null : Buffer.from(JSON.stringify(envelope)),
              enqueued_at: data.enqueuedAt,
              wakes: wakes ?? 0,
            };
          }),
        )
        .onConflict((oc) =>
          options.takeOver
            ? oc.column('content_digest').doUpdateSet({
                id: sql<string>`DEFAULT`,
                payload: (eb) => eb.ref('excluded.payload'),
                envelope: sql`COALESCE(excluded.envelope, ${sql.table(TABLE)}.envelope)`,
                wakes: (eb) => eb.ref('excluded.wakes'),
              })
            : oc.column('content_digest').doNothing(),
        )
        .returning('tenant_id')
        .execute();
      for (const r of rows) {
        const t = r.tenant_id.toLowerCase();
        added.set(t, (added.get(t) ?? 0) + 1);
      }
    }
    return added;
  }

  /** The head of a lane: up to `limit` jobs in release order (priority desc, then arrival). */
  async head(tier: Tier, tenantId: string, limit: number): Promise<ParkedJob[]> {
    const rows = await this.db.transaction().execute(async (trx) => {
      await readInIndexOrder(trx);
      return trx
        .selectFrom(TABLE)
        .selectAll()
        .where('tier', '=', tier)
        .where('tenant_id', '=', tenantId)
        .orderBy('priority', 'desc')
        .orderBy('enqueued_at', 'asc')
        .orderBy('id', 'asc')
        .limit(limit)
        .execute();
    });
    return rows.map((row) => ({ id: row.id, data: ParkingLot.decode(row), wakes: row.wakes }));
  }

  /** Removes released rows (after their jobs are in the tier queue). */
  async delete(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .deleteFrom(TABLE)
      .where('id', 'in', [...ids])
      .execute();
  }

  /** Whether a content is parked. */
  async has(contentDigest: string): Promise<boolean> {
    const row = await this.db
      .selectFrom(TABLE)
      .select('id')
      .where('content_digest', '=', contentDigest)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The contents among `digests` that are parked. */
  async parkedOf(digests: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < digests.length; i += INSERT_BATCH) {
      const rows = await this.db
        .selectFrom(TABLE)
        .select('content_digest')
        .where('content_digest', 'in', digests.slice(i, i + INSERT_BATCH))
        .execute();
      for (const r of rows) out.add(r.content_digest);
    }
    return out;
  }

  /** Parked jobs per tenant (lower-case id) of a tier, for the given tenants. */
  async countByTenant(tier: Tier, tenantIds: readonly string[]): Promise<Map<string, number>> {
    if (tenantIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom(TABLE)
      .select(['tenant_id', sql<number>`count(*)::int`.as('n')])
      .where('tier', '=', tier)
      .where('tenant_id', 'in', [...tenantIds])
      .groupBy('tenant_id')
      .execute();
    return new Map(rows.map((r) => [r.tenant_id.toLowerCase(), r.n]));
  }

  /**
   * Tenants with parked jobs in a tier (one index probe per tenant, however
   * deep the lanes): how the scheduler rebuilds its lanes after a Redis loss.
   */
  async tenants(tier: Tier): Promise<string[]> {
    const { rows } = await sql<{ tenant_id: string }>`
      WITH RECURSIVE lanes AS (
        (SELECT tenant_id FROM attestor.rekor_parked WHERE tier = ${tier} ORDER BY tenant_id LIMIT 1)
        UNION ALL
        SELECT (SELECT p.tenant_id FROM attestor.rekor_parked p
                 WHERE p.tier = ${tier} AND p.tenant_id > lanes.tenant_id
                 ORDER BY p.tenant_id LIMIT 1)
          FROM lanes WHERE lanes.tenant_id IS NOT NULL
      )
      SELECT tenant_id FROM lanes WHERE tenant_id IS NOT NULL`.execute(this.db);
    return rows.map((r) => r.tenant_id.toLowerCase());
  }

  /** Parked rows in all, per tier. */
  async depth(): Promise<Record<Tier, number>> {
    const rows = await this.db
      .selectFrom(TABLE)
      .select(['tier', sql<number>`count(*)::int`.as('n')])
      .groupBy('tier')
      .execute();
    const out: Record<Tier, number> = { graph: 0, edge: 0 };
    for (const r of rows) out[r.tier] = r.n;
    return out;
  }

  /** Decodes a row back into job data (with its wakes). */
  static decode(row: ParkedRow): SubmissionJobData {
    const data = JSON.parse(row.payload.toString('utf8')) as SubmissionJobData;
    if (row.envelope) data.envelope = JSON.parse(row.envelope.toString('utf8')) as SignedEnvelope;
    if (row.wakes > 0) data.wakes = row.wakes;
    return data;
  }
}

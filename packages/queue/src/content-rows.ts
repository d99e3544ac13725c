import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '@rekor-budget/db';

/** The tables that keep rows per content digest and tenant. */
export type ContentTable =
  'attestor.rekor_offline_queue' | 'attestor.rekor_rejected' | 'attestor.rekor_entries';

/** Digests asked in one query at most. */
const CHUNK = 1000;

/**
 * Makes the rest of the transaction read a queue's head in index order
 * rather than fetch every row and sort it. The planner's choice rests on its
 * statistics, and a queue table filled by an outage (or one tenant's
 * backlog) has none that fit yet: with the default guess that a lane is a
 * few rows, it reads and sorts the whole lane on every claim (100,000 rows:
 * ~250 ms a claim instead of ~1 ms). Settings local to the transaction, so
 * nothing else is affected.
 */
export async function readInIndexOrder(trx: Transaction<Database>): Promise<void> {
  await sql`SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)`.execute(
    trx,
  );
}

/** The contents among `digests` with at least one row in `table`. */
export async function contentsIn(
  db: Kysely<Database>,
  table: ContentTable,
  digests: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < digests.length; i += CHUNK) {
    const rows = await db
      .selectFrom(table)
      .select('content_digest')
      .distinct()
      .where('content_digest', 'in', digests.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) found.add(r.content_digest);
  }
  return found;
}

/** Rows of `table` per tenant (lower-case id), for the given tenants. */
export async function countByTenant(
  db: Kysely<Database>,
  table: ContentTable,
  tenantIds: readonly string[],
): Promise<Map<string, number>> {
  if (tenantIds.length === 0) return new Map();
  const rows = await db
    .selectFrom(table)
    .select(['tenant_id', sql<number>`count(*)::int`.as('n')])
    .where('tenant_id', 'in', [...tenantIds])
    .groupBy('tenant_id')
    .execute();
  return new Map(rows.map((r) => [r.tenant_id.toLowerCase(), r.n]));
}

/** Where Postgres holds a content: logged, waiting (offline or parked), or refused for good. */
export type ContentPlace = 'logged' | 'offline' | 'rejected';

/**
 * Where Postgres holds each of `digests`: one call of
 * `attestor.content_places` (migration 0006), which probes the receipts, the
 * offline queue, the parked jobs and the rejected table by index whatever
 * their statistics say. A content in several places answers the first of
 * logged, offline, rejected.
 */
export async function contentPlaces(
  db: Kysely<Database>,
  digests: readonly string[],
): Promise<Map<string, ContentPlace>> {
  const out = new Map<string, ContentPlace>();
  const rank: Record<ContentPlace, number> = { logged: 0, offline: 1, rejected: 2 };
  for (let i = 0; i < digests.length; i += CHUNK) {
    const chunk = digests.slice(i, i + CHUNK);
    const { rows } = await sql<{ content_digest: string; place: ContentPlace }>`
      SELECT content_digest, place FROM attestor.content_places(${chunk}::text[])`.execute(db);
    for (const r of rows) {
      const had = out.get(r.content_digest);
      if (had === undefined || rank[r.place] < rank[had]) out.set(r.content_digest, r.place);
    }
  }
  return out;
}

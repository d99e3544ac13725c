import { sql, type Kysely } from 'kysely';
import type { Database } from '@rekor-budget/db';

/** The tables that keep rows per content digest and tenant. */
export type ContentTable =
  'attestor.rekor_offline_queue' | 'attestor.rekor_rejected' | 'attestor.rekor_entries';

/** Digests asked in one query at most. */
const CHUNK = 1000;

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

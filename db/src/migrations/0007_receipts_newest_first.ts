import { sql, type Kysely } from 'kysely';

/**
 * Receipts in the order they were stored, across tenants: `rekor-budget
 * receipts` lists the newest first and `receipts export --since` the oldest
 * first from a time. Without this index both read and sort the whole table
 * (~100 ms at 300,000 receipts, growing with every entry logged); with it
 * they read the rows they return. Per-tenant lists keep
 * `rekor_entries_tenant_idx`.
 *
 * Building the index holds off receipt writes for as long as it takes
 * (seconds per million receipts): workers still running while
 * `rekor-budget migrate` runs wait that long to store a receipt.
 *
 * Frozen: this file never changes once applied. Add a new migration instead.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX rekor_entries_created_idx
              ON attestor.rekor_entries (created_at, log_index)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX attestor.rekor_entries_created_idx`.execute(db);
}

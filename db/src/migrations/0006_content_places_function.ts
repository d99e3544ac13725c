import { sql, type Kysely } from 'kysely';

/**
 * `attestor.content_places(digests)`: where Postgres holds each content
 * (logged, offline, parked, rejected), one row per table that holds it. The
 * producer asks it for every batch, so it must stay a few index probes per
 * digest whatever the tables' statistics say. With none that fit (a table
 * never analyzed after `pg_upgrade` or a restore, or filled since), the
 * planner guesses that a digest matches many rows and reads a whole table:
 * 200,000 receipts cost ~100 ms a batch instead of a few. The function's own
 * settings rule out table scans and hash or merge joins while it runs.
 *
 * Frozen: this file never changes once applied. Add a new migration instead.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION attestor.content_places(digests text[])
      RETURNS TABLE (content_digest text, place text)
      LANGUAGE sql STABLE
      SET enable_seqscan = off
      SET enable_hashjoin = off
      SET enable_mergejoin = off
    AS $$
      SELECT e.content_digest, 'logged' FROM attestor.rekor_entries e
        WHERE e.content_digest = ANY (digests)
      UNION ALL
      SELECT o.content_digest, 'offline' FROM attestor.rekor_offline_queue o
        WHERE o.content_digest = ANY (digests)
      UNION ALL
      SELECT p.content_digest, 'offline' FROM attestor.rekor_parked p
        WHERE p.content_digest = ANY (digests)
      UNION ALL
      SELECT r.content_digest, 'rejected' FROM attestor.rekor_rejected r
        WHERE r.content_digest = ANY (digests)
    $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION attestor.content_places(text[])`.execute(db);
}

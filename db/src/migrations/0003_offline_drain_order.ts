import { sql, type Kysely } from 'kysely';

/**
 * The drain's claim (one tier, not exported, priority then oldest, LIMIT,
 * FOR UPDATE SKIP LOCKED) as an index scan that stops after the batch: with
 * the tier first and the drain order after it, a claim costs the batch, not
 * a sort of every waiting row, however deep the offline queue and whether or
 * not the table has been analyzed since an outage filled it.
 *
 * Frozen: this file never changes once applied. Add a new migration instead.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX rekor_offline_queue_tier_drain_idx
              ON attestor.rekor_offline_queue (tier, priority DESC, created_at ASC)
              WHERE exported_at IS NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX attestor.rekor_offline_queue_tier_drain_idx`.execute(db);
}

import { sql, type Kysely } from 'kysely';

/**
 * Offline reason `timestamp_unavailable`: the timestamp authority failed
 * through every attempt, so nothing was sent to the log; the drain replays
 * these rows like the other connectivity reasons.
 *
 * Frozen: this file never changes once applied. Add a new migration instead.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE attestor.rekor_offline_queue
              DROP CONSTRAINT rekor_offline_queue_reason_check`.execute(db);
  await sql`ALTER TABLE attestor.rekor_offline_queue
              ADD CONSTRAINT rekor_offline_queue_reason_check CHECK (reason IN (
                'overflow', 'redis_unavailable', 'rekor_unreachable', 'air_gapped',
                'rekor_error', 'rekor_timeout', 'timestamp_unavailable'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // rows waiting for the timestamp authority wait for Rekor instead: kept, never dropped
  await sql`UPDATE attestor.rekor_offline_queue SET reason = 'rekor_error'
              WHERE reason = 'timestamp_unavailable'`.execute(db);
  await sql`ALTER TABLE attestor.rekor_offline_queue
              DROP CONSTRAINT rekor_offline_queue_reason_check`.execute(db);
  await sql`ALTER TABLE attestor.rekor_offline_queue
              ADD CONSTRAINT rekor_offline_queue_reason_check CHECK (reason IN (
                'overflow', 'redis_unavailable', 'rekor_unreachable', 'air_gapped',
                'rekor_error', 'rekor_timeout'))`.execute(db);
}

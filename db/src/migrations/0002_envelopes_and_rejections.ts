import { sql, type Kysely } from 'kysely';

/**
 * The one signed envelope of each content, the submissions Rekor refused for
 * good, and the offline reasons of transient Rekor failures.
 *
 * Frozen: this file never changes once applied. Add a new migration instead.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Signed once, before the first POST: every copy of a content, from any path,
  // sends these bytes, so a second POST is always Rekor's duplicate (409).
  await sql`
    CREATE TABLE attestor.rekor_envelopes (
      content_digest TEXT PRIMARY KEY,
      tenant_id UUID NOT NULL,
      tier TEXT NOT NULL CHECK (tier IN ('graph', 'edge')),
      -- the signed DSSE envelope (JSON, UTF-8)
      envelope BYTEA NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    )`.execute(db);

  // Permanent refusals (400/413/422, a frozen shard, a malformed answer, an
  // input that does not validate): kept with the reason until retried or
  // discarded by an operator.
  await sql`
    CREATE TABLE attestor.rekor_rejected (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL,
      tier TEXT NOT NULL CHECK (tier IN ('graph', 'edge')),
      content_digest TEXT NOT NULL,
      reason TEXT NOT NULL
        CHECK (reason IN ('rejected', 'frozen', 'invalid_response', 'invalid_submission')),
      -- Rekor's HTTP status, when it answered
      http_status INT,
      message TEXT NOT NULL,
      log_url TEXT NOT NULL,
      -- the submission (JSON, UTF-8), as the job carried it
      payload BYTEA NOT NULL,
      envelope BYTEA,
      rejected_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX rekor_rejected_content_digest_key
              ON attestor.rekor_rejected (content_digest)`.execute(db);
  await sql`CREATE INDEX rekor_rejected_tenant_idx
              ON attestor.rekor_rejected (tenant_id, rejected_at DESC)`.execute(db);

  // Rekor answered 5xx (rekor_error) or never answered after the request was
  // sent (rekor_timeout) through every attempt: the drain replays these too.
  await sql`ALTER TABLE attestor.rekor_offline_queue
              DROP CONSTRAINT rekor_offline_queue_reason_check`.execute(db);
  await sql`ALTER TABLE attestor.rekor_offline_queue
              ADD CONSTRAINT rekor_offline_queue_reason_check CHECK (reason IN (
                'overflow', 'redis_unavailable', 'rekor_unreachable', 'air_gapped',
                'rekor_error', 'rekor_timeout'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM attestor.rekor_offline_queue WHERE reason IN ('rekor_error', 'rekor_timeout')`.execute(
    db,
  );
  await sql`ALTER TABLE attestor.rekor_offline_queue
              DROP CONSTRAINT rekor_offline_queue_reason_check`.execute(db);
  await sql`ALTER TABLE attestor.rekor_offline_queue
              ADD CONSTRAINT rekor_offline_queue_reason_check CHECK (reason IN (
                'overflow', 'redis_unavailable', 'rekor_unreachable', 'air_gapped'))`.execute(db);
  await sql`DROP TABLE IF EXISTS attestor.rekor_rejected`.execute(db);
  await sql`DROP TABLE IF EXISTS attestor.rekor_envelopes`.execute(db);
}

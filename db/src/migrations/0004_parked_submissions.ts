import { sql, type Kysely } from 'kysely';

/**
 * Parked submissions: jobs the budget refused, kept per (tier, tenant) lane
 * outside Redis until the scheduler releases them, one unit at a time.
 *
 * Frozen: this file never changes once applied. Add a new migration instead.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE attestor.rekor_parked (
      -- arrival order within a lane (ties of enqueued_at)
      id BIGSERIAL PRIMARY KEY,
      tenant_id UUID NOT NULL,
      tier TEXT NOT NULL CHECK (tier IN ('graph', 'edge')),
      priority INT NOT NULL DEFAULT 0,
      content_digest TEXT NOT NULL,
      -- the job data (JSON, UTF-8) without the envelope
      payload BYTEA NOT NULL,
      envelope BYTEA,
      -- epoch ms of the first enqueue: a job parked again keeps its place
      enqueued_at BIGINT NOT NULL,
      -- how often the job was released before (each release is one wake)
      wakes INT NOT NULL DEFAULT 0,
      parked_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX rekor_parked_content_digest_key
              ON attestor.rekor_parked (content_digest)`.execute(db);
  // one lane = (tier, tenant), served by priority, then arrival
  await sql`CREATE INDEX rekor_parked_lane_idx
              ON attestor.rekor_parked (tier, tenant_id, priority DESC, enqueued_at, id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS attestor.rekor_parked`.execute(db);
}

import { sql, type Kysely } from 'kysely';

/**
 * Schema `attestor`: the spec's `rekor_quotas` and `rekor_offline_queue`
 * (columns, types, defaults and CHECK exactly as specified, plus columns of
 * our own), and `rekor_entries` for receipts.
 *
 * Frozen: this file never changes once applied. Add a new migration instead.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE SCHEMA IF NOT EXISTS attestor`.execute(db);

  await sql`
    CREATE TABLE attestor.rekor_quotas (
      tenant_id UUID PRIMARY KEY,
      hourly_count INT NOT NULL DEFAULT 0,
      daily_bundle_count INT NOT NULL DEFAULT 0,
      last_reset_hour TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      last_reset_day DATE NOT NULL DEFAULT CURRENT_DATE
    )`.execute(db);

  await sql`
    CREATE TABLE attestor.rekor_offline_queue (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL,
      tier TEXT NOT NULL CHECK (tier IN ('graph', 'edge')),
      payload BYTEA NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      priority INT NOT NULL DEFAULT 0,
      -- sha256 of the statement: the submission's identity
      content_digest TEXT NOT NULL,
      -- why the submission is here
      reason TEXT NOT NULL DEFAULT 'overflow'
        CHECK (reason IN ('overflow', 'redis_unavailable', 'rekor_unreachable', 'air_gapped')),
      -- the signed DSSE envelope (JSON), once signed
      envelope BYTEA,
      -- set when the row was written into an offline kit
      exported_at TIMESTAMPTZ
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX rekor_offline_queue_content_digest_key
              ON attestor.rekor_offline_queue (content_digest)`.execute(db);
  await sql`CREATE INDEX rekor_offline_queue_drain_idx
              ON attestor.rekor_offline_queue (priority DESC, created_at ASC)`.execute(db);
  await sql`CREATE INDEX rekor_offline_queue_tenant_idx
              ON attestor.rekor_offline_queue (tenant_id, tier)`.execute(db);

  await sql`
    CREATE TABLE attestor.rekor_entries (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL,
      tier TEXT NOT NULL CHECK (tier IN ('graph', 'edge')),
      content_digest TEXT NOT NULL,
      rekor_uuid TEXT NOT NULL,
      log_index BIGINT NOT NULL CHECK (log_index >= 0),
      integrated_time TIMESTAMPTZ NOT NULL,
      log_id TEXT NOT NULL,
      log_url TEXT NOT NULL,
      bundle JSONB NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      CONSTRAINT rekor_entries_content_log_key UNIQUE (content_digest, log_url)
    )`.execute(db);
  await sql`CREATE INDEX rekor_entries_tenant_idx
              ON attestor.rekor_entries (tenant_id, created_at DESC)`.execute(db);
  await sql`CREATE INDEX rekor_entries_rekor_uuid_idx
              ON attestor.rekor_entries (rekor_uuid)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS attestor.rekor_entries`.execute(db);
  await sql`DROP TABLE IF EXISTS attestor.rekor_offline_queue`.execute(db);
  await sql`DROP TABLE IF EXISTS attestor.rekor_quotas`.execute(db);
}

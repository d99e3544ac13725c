import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** `attestor.rekor_quotas`: per-tenant usage, mirrored from Redis for reporting. */
export interface RekorQuotasTable {
  tenant_id: string;
  /** Tier 1 submissions since `last_reset_hour` (the start of the clock hour). */
  hourly_count: Generated<number>;
  /** Tier 2 submissions since `last_reset_day` (a UTC date). */
  daily_bundle_count: Generated<number>;
  last_reset_hour: ColumnType<Date, Date | string | undefined, Date | string>;
  /** `YYYY-MM-DD` (DATE columns are read as strings, never shifted by a time zone). */
  last_reset_day: ColumnType<string, string | undefined, string>;
}

export type OfflineReason =
  | 'overflow'
  | 'redis_unavailable'
  | 'rekor_unreachable'
  | 'air_gapped'
  /** Rekor answered 5xx through every attempt. */
  | 'rekor_error'
  /** Rekor never answered a request it was sent, through every attempt. */
  | 'rekor_timeout'
  /** The timestamp authority failed through every attempt; nothing was sent to the log. */
  | 'timestamp_unavailable';

/** `attestor.rekor_offline_queue`: submissions waiting outside Redis. */
export interface RekorOfflineQueueTable {
  id: Generated<string>;
  tenant_id: string;
  tier: 'graph' | 'edge';
  /** The submission (JSON, UTF-8), as the producer built it. */
  payload: Buffer;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  priority: Generated<number>;
  content_digest: string;
  reason: ColumnType<OfflineReason, OfflineReason | undefined, OfflineReason>;
  /** The signed DSSE envelope (JSON, UTF-8), once signed. */
  envelope: Buffer | null;
  exported_at: Date | null;
}

/** `attestor.rekor_entries`: receipts, one per submission and log. */
export interface RekorEntriesTable {
  id: Generated<string>;
  tenant_id: string;
  tier: 'graph' | 'edge';
  content_digest: string;
  rekor_uuid: string;
  log_index: number;
  integrated_time: Date;
  log_id: string;
  log_url: string;
  bundle: ColumnType<unknown, string, string>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

/** `attestor.rekor_envelopes`: the one signed envelope of each content. */
export interface RekorEnvelopesTable {
  content_digest: string;
  tenant_id: string;
  tier: 'graph' | 'edge';
  /** The signed DSSE envelope (JSON, UTF-8). */
  envelope: Buffer;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

/** `attestor.rekor_parked`: jobs the budget refused, waiting per (tier, tenant) lane for a unit. */
export interface RekorParkedTable {
  /**
   * Arrival order (BIGSERIAL, read as a string); the release's job id. Updated
   * only to `DEFAULT`: a released job parked again takes its row over under a new id.
   */
  id: ColumnType<string, never, string>;
  tenant_id: string;
  tier: 'graph' | 'edge';
  priority: number;
  content_digest: string;
  /** The job data (JSON, UTF-8) without the envelope. */
  payload: Buffer;
  /** The signed DSSE envelope (JSON, UTF-8), when the job carried one. */
  envelope: Buffer | null;
  /** Epoch ms of the first enqueue (BIGINT, read as a string). */
  enqueued_at: ColumnType<string, number | string, never>;
  /** Releases so far. */
  wakes: ColumnType<number, number | undefined, number>;
  parked_at: ColumnType<Date, Date | string | undefined, never>;
}

export type RejectionReason = 'rejected' | 'frozen' | 'invalid_response' | 'invalid_submission';

/** `attestor.rekor_rejected`: submissions Rekor refused for good, kept for an operator. */
export interface RekorRejectedTable {
  id: Generated<string>;
  tenant_id: string;
  tier: 'graph' | 'edge';
  content_digest: string;
  reason: RejectionReason;
  http_status: number | null;
  message: string;
  log_url: string;
  /** The submission (JSON, UTF-8). */
  payload: Buffer;
  envelope: Buffer | null;
  /** When it was refused last (a second refusal moves it). */
  rejected_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface Database {
  'attestor.rekor_quotas': RekorQuotasTable;
  'attestor.rekor_offline_queue': RekorOfflineQueueTable;
  'attestor.rekor_entries': RekorEntriesTable;
  'attestor.rekor_envelopes': RekorEnvelopesTable;
  'attestor.rekor_rejected': RekorRejectedTable;
  'attestor.rekor_parked': RekorParkedTable;
}

export type RekorQuota = Selectable<RekorQuotasTable>;
export type NewRekorQuota = Insertable<RekorQuotasTable>;
export type RekorQuotaUpdate = Updateable<RekorQuotasTable>;
export type OfflineRow = Selectable<RekorOfflineQueueTable>;
export type NewOfflineRow = Insertable<RekorOfflineQueueTable>;
export type RekorEntry = Selectable<RekorEntriesTable>;
export type NewRekorEntry = Insertable<RekorEntriesTable>;
export type RejectedRow = Selectable<RekorRejectedTable>;
export type ParkedRow = Selectable<RekorParkedTable>;

import { sql, type Kysely } from 'kysely';
import { HOUR_MS, InputError, isTenantId, isTier, type Tier } from '@rekor-budget/core';
import type { Database } from '@rekor-budget/db';
import { BudgetError } from './error';

/** A tenant's mirrored usage as of one instant. */
export interface QuotaCounts {
  /** Tier 1 submissions in the clock hour (UTC) of the instant. */
  hourlyCount: number;
  /** Tier 2 submissions on the UTC date of the instant. */
  dailyBundleCount: number;
  /** Start of that clock hour. */
  hour: Date;
  /** That UTC date, `YYYY-MM-DD`. */
  day: string;
}

/** Keeps `attestor.rekor_quotas` in step with submissions, for reporting. */
export interface QuotaMirror {
  /**
   * Counts one successful submission at `at`. One statement (an upsert),
   * safe under any number of concurrent callers: the hourly count restarts
   * when the clock hour changes, the daily count when the UTC date changes.
   * A submission older than the stored hour or day changes nothing there.
   */
  record(tenantId: string, tier: Tier, at: Date): Promise<void>;
  /** The counts as of `at`: 0 where the stored hour or day is not `at`'s. */
  get(tenantId: string, at: Date): Promise<QuotaCounts>;
}

/** The quota mirror on a kysely database; the caller owns (and closes) `db`. */
export function createQuotaMirror(db: Kysely<Database>): QuotaMirror {
  return {
    async record(tenantId, tier, at) {
      const tenant = checkTenant(tenantId);
      if (!isTier(tier)) {
        throw new BudgetError('INVALID_TIER', `tier ${JSON.stringify(tier)} is not one of "graph", "edge"`);
      }
      const { hour, day } = period(at);
      const graph = tier === 'graph' ? 1 : 0;
      const edge = tier === 'edge' ? 1 : 0;
      try {
        await sql`
          INSERT INTO attestor.rekor_quotas AS q
            (tenant_id, hourly_count, daily_bundle_count, last_reset_hour, last_reset_day)
          VALUES (${tenant}, ${graph}, ${edge}, ${hour}, ${day}::date)
          ON CONFLICT (tenant_id) DO UPDATE SET
            hourly_count = CASE
              WHEN EXCLUDED.last_reset_hour > q.last_reset_hour THEN EXCLUDED.hourly_count
              WHEN EXCLUDED.last_reset_hour = q.last_reset_hour THEN q.hourly_count + EXCLUDED.hourly_count
              ELSE q.hourly_count END,
            last_reset_hour = GREATEST(q.last_reset_hour, EXCLUDED.last_reset_hour),
            daily_bundle_count = CASE
              WHEN EXCLUDED.last_reset_day > q.last_reset_day THEN EXCLUDED.daily_bundle_count
              WHEN EXCLUDED.last_reset_day = q.last_reset_day THEN q.daily_bundle_count + EXCLUDED.daily_bundle_count
              ELSE q.daily_bundle_count END,
            last_reset_day = GREATEST(q.last_reset_day, EXCLUDED.last_reset_day)`.execute(db);
      } catch (cause) {
        throw new BudgetError(
          'QUOTA_UNAVAILABLE',
          `Postgres did not record the quota of ${tenant}: ${String(cause)}`,
          {
            cause,
          },
        );
      }
    },

    async get(tenantId, at) {
      const tenant = checkTenant(tenantId);
      const { hour, day } = period(at);
      let row;
      try {
        row = await db
          .selectFrom('attestor.rekor_quotas')
          .select(['hourly_count', 'daily_bundle_count', 'last_reset_hour', 'last_reset_day'])
          .where('tenant_id', '=', tenant)
          .executeTakeFirst();
      } catch (cause) {
        throw new BudgetError(
          'QUOTA_UNAVAILABLE',
          `Postgres did not read the quota of ${tenant}: ${String(cause)}`,
          {
            cause,
          },
        );
      }
      return {
        hourlyCount: row && new Date(row.last_reset_hour).getTime() === hour.getTime() ? row.hourly_count : 0,
        dailyBundleCount: row && row.last_reset_day === day ? row.daily_bundle_count : 0,
        hour,
        day,
      };
    },
  };
}

/** Start of the clock hour and UTC date of an instant. */
function period(at: Date): { hour: Date; day: string } {
  const ms = at instanceof Date ? at.getTime() : NaN;
  if (!Number.isFinite(ms)) {
    throw new InputError(
      'INVALID_INPUT',
      'at',
      `${String(at)} is not a valid Date; pass the submission time`,
    );
  }
  return { hour: new Date(Math.floor(ms / HOUR_MS) * HOUR_MS), day: new Date(ms).toISOString().slice(0, 10) };
}

function checkTenant(tenantId: string): string {
  if (!isTenantId(tenantId)) {
    throw new InputError(
      'INVALID_TENANT',
      'tenantId',
      `${JSON.stringify(tenantId)} is not a UUID; pass the tenant's UUID`,
    );
  }
  return tenantId.toLowerCase();
}

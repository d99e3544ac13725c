import type { Migration } from 'kysely';
import * as m0001 from './0001_attestor_schema';
import * as m0002 from './0002_envelopes_and_rejections';
import * as m0003 from './0003_offline_drain_order';
import * as m0004 from './0004_parked_submissions';
import * as m0005 from './0005_timestamp_unavailable';
import * as m0006 from './0006_content_places_function';
import * as m0007 from './0007_receipts_newest_first';

/**
 * Every migration, in order. Append only: never edit or reorder an entry
 * once it has been released.
 */
export const migrations: Record<string, Migration> = {
  '0001_attestor_schema': m0001,
  '0002_envelopes_and_rejections': m0002,
  '0003_offline_drain_order': m0003,
  '0004_parked_submissions': m0004,
  '0005_timestamp_unavailable': m0005,
  '0006_content_places_function': m0006,
  '0007_receipts_newest_first': m0007,
};

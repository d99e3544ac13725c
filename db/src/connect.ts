import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { errorFields, silentLogger, type Logger } from '@rekor-budget/core';
import type { Database } from './schema';

const { Pool, types } = pg;

const INT8 = 20;
const DATE = 1082;

/**
 * Type parsers for our columns: BIGINT as a JS number (log indexes and counts
 * stay far below 2^53) and DATE as its `YYYY-MM-DD` text, never shifted into
 * the local time zone.
 */
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8) return (v: string) => Number(v);
    if (oid === DATE) return (v: string) => v;
    return types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

export interface CreateDbOptions {
  /** A `postgres://` URL. */
  url: string;
  /** Pool size. @defaultValue 10 */
  max?: number;
  /** `application_name` reported to Postgres. @defaultValue 'rekor-budget' */
  applicationName?: string;
  /** Where errors of idle connections are reported. @defaultValue silentLogger */
  logger?: Logger;
}

/** Opens a kysely instance on a pg pool; `db.destroy()` closes it. */
export function createDb(options: CreateDbOptions): Kysely<Database> {
  const pool = new Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'rekor-budget',
    types: typeParsers,
  });
  // An idle client losing its server must not crash the process; the next
  // query on the pool reports the problem to its caller.
  const logger = options.logger ?? silentLogger;
  pool.on('error', (e) =>
    logger.warn({ component: 'postgres', ...errorFields(e) }, 'an idle Postgres connection failed'),
  );
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

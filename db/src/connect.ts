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
  // A connection losing its server (Postgres stopped or restarted) must not
  // crash the process: the pool reports idle ones, and every client gets its
  // own listener for the moments it is checked out between queries. The query
  // in flight, if any, fails to its caller, who decides.
  const logger = options.logger ?? silentLogger;
  const lost = (e: Error) =>
    logger.warn({ component: 'postgres', ...errorFields(e) }, 'a Postgres connection was lost');
  pool.on('error', lost);
  pool.on('connect', (client) => client.on('error', lost));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

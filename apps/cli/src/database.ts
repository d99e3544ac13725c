import pg from 'pg';
import { redactUrl } from '@rekor-budget/core';

/** The database name in a Postgres URL (`postgres` when the URL names none). */
export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres';
}

/** `url` with its database replaced by `name`. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

/** Drops the database `url` names, if it exists (connections to it are closed first). */
export async function dropDatabase(url: string): Promise<void> {
  const client = new pg.Client({
    connectionString: withDatabase(url, 'postgres'),
    connectionTimeoutMillis: 5_000,
  });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(databaseName(url))} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/**
 * Creates the database `url` names unless it exists, connecting to the
 * server's `postgres` database to do so. Resolves `true` when it created it.
 */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseName(url);
  const client = new pg.Client({
    connectionString: withDatabase(url, 'postgres'),
    connectionTimeoutMillis: 5_000,
  });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    } catch (e) {
      // created meanwhile by another run: as good as created here
      if ((e as { code?: string }).code === '42P04') return false;
      throw new Error(`cannot create database "${name}" on ${redactUrl(url)}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    return true;
  } finally {
    await client.end();
  }
}

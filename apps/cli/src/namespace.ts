import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import type { Env, RekorConfig } from '@rekor-budget/core';
import { databaseName, withDatabase } from './database';

/** This checkout's own Redis key prefix and Postgres database, derived from its directory. */
export interface CheckoutNamespace {
  prefix: string;
  database: string;
}

/**
 * The namespace of the checkout at `cwd`: its directory name (for people)
 * and a hash of its full path (so two clones named alike still differ).
 */
export function checkoutNamespace(cwd: string): CheckoutNamespace {
  let path = cwd;
  try {
    path = realpathSync(cwd);
  } catch {
    // a directory that vanished keeps its given name
  }
  const hash = createHash('sha256').update(path).digest('hex').slice(0, 8);
  const name =
    basename(path)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 24) || 'root';
  return {
    prefix: `rekor-budget-${name.replace(/_/g, '-')}-${hash}`,
    database: `rekor_budget_${name}_${hash}`,
  };
}

export interface ChosenNamespace {
  config: RekorConfig;
  /** The database is this checkout's own, created when missing. */
  ownDatabase: boolean;
  /** The Redis key prefix is this checkout's own. */
  ownPrefix: boolean;
  /** One line saying what was chosen and how to choose otherwise. */
  line: string;
}

/**
 * Where a local run (`start`, `demo`) keeps its state. Without a
 * configuration file, two checkouts never share it: the Redis key prefix is
 * the checkout's own unless `--prefix` or REDIS_PREFIX names one, and the
 * database is the checkout's own on the configured server unless
 * DATABASE_URL names a database other than the server's `postgres`
 * maintenance database. A configuration file is used as written.
 *
 * The demo (`purpose: 'demo'`) never runs in that namespace: it takes the
 * prefix and database `start` would take with the same file, flags and
 * environment, with `-demo` / `_demo` appended, and owns them (empties them
 * first), so its compressed clock and its jobs never reach a running system.
 */
export function chooseNamespace(o: {
  config: RekorConfig;
  source: string;
  env: Env;
  cwd: string;
  prefix?: string;
  /** `demo`: a namespace apart from `start`'s, so the demo's compressed clock never reaches it. */
  purpose?: 'demo';
}): ChosenNamespace {
  const own = checkoutNamespace(o.cwd);
  const defaults = o.source === 'defaults';
  const explicitPrefix = o.prefix ?? (o.env.REDIS_PREFIX || undefined);
  const startPrefix = explicitPrefix ?? (defaults ? own.prefix : o.config.redis.keyPrefix);
  const startOwnDatabase = defaults && databaseName(o.config.database.url) === 'postgres';
  const startDatabaseUrl = startOwnDatabase
    ? withDatabase(o.config.database.url, own.database)
    : o.config.database.url;
  const demo = o.purpose === 'demo';
  const prefix = demo ? `${startPrefix}-demo` : startPrefix;
  const databaseUrl = demo
    ? withDatabase(startDatabaseUrl, `${databaseName(startDatabaseUrl)}_demo`)
    : startDatabaseUrl;
  const config: RekorConfig = {
    ...o.config,
    redis: { ...o.config.redis, keyPrefix: prefix },
    database: { ...o.config.database, url: databaseUrl },
  };
  const why = demo
    ? `the demo's own, beside ${startPrefix} and ${databaseName(startDatabaseUrl)}, which it never touches`
    : prefix === own.prefix && startOwnDatabase
      ? `this checkout's own, from ${o.cwd}; --prefix and DATABASE_URL choose others`
      : defaults
        ? 'as given'
        : `from ${o.source}`;
  return {
    config,
    ownDatabase: demo || startOwnDatabase,
    ownPrefix: demo || prefix === own.prefix,
    line: `namespace redis prefix ${prefix}, database ${databaseName(databaseUrl)} (${why})`,
  };
}

/** True when `e`, or an error in its cause chain, is a port already in use. */
function portInUse(e: unknown): boolean {
  for (let x = e, depth = 0; x instanceof Error && depth < 5; x = x.cause, depth++)
    if ((x as NodeJS.ErrnoException).code === 'EADDRINUSE') return true;
  return false;
}

/**
 * Starts something that listens: on `explicit` as given (a clash is then an
 * error the operator sees), else on `preferred`, and when that is taken (by
 * another run, say) on any free port, with a note saying so.
 */
export async function listenOn<T>(
  what: string,
  preferred: number,
  explicit: number | undefined,
  note: (line: string) => void,
  listen: (port: number) => Promise<T>,
): Promise<T> {
  if (explicit !== undefined) return listen(explicit);
  try {
    return await listen(preferred);
  } catch (e) {
    if (preferred === 0 || !portInUse(e)) throw e;
    note(`${what}: port ${preferred} is taken (another run?); using a free one instead`);
    return listen(0);
  }
}

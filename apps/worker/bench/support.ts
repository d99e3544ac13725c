/** What the worker benchmarks share: a database of their own, key clean-up, a CLI process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { createDb, migrateToLatest } from '@rekor-budget/db';

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
export const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
export const CLI = join(__dirname, '..', '..', 'cli', 'bin', 'rekor-budget.js');

/** `--name value` of the command line, else `dflt`. */
export function arg(name: string, dflt: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
}

export interface BenchDatabase {
  url: string;
  db: ReturnType<typeof createDb>;
  drop(): Promise<void>;
}

/** A fresh, migrated database on the server of `DATABASE_URL`; `drop()` removes it. */
export async function createBenchDatabase(name: string): Promise<BenchDatabase> {
  const dbName = `rekor_budget_${name}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${dbName}`;
  const db = createDb({ url: url.toString() });
  await migrateToLatest(db);
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.destroy();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Deletes every key of a run's prefix (queues `{prefix}:*` and the rest `prefix:*`). */
export async function dropKeys(redis: Redis, prefix: string): Promise<void> {
  for (const pattern of [`{${prefix}}:*`, `${prefix}:*`]) {
    const keys = await redis.keys(pattern);
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  }
}

/** A Node process with the service variables cleared, so only its arguments configure it. */
export function spawnNode(argv: string[]): ChildProcess {
  return spawn(
    process.execPath,
    [...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), ...argv],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, REDIS_URL: '', DATABASE_URL: '', REKOR_URL: '', SIGNING_KEY: '' },
    },
  );
}

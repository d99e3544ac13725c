/** What the benchmarks share: a database of their own (keys go with `deleteKeys`). */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, migrateToLatest } from '@rekor-budget/db';
import { databaseUrl } from './services';

export interface BenchDatabase {
  url: string;
  db: ReturnType<typeof createDb>;
  drop(): Promise<void>;
}

/** A fresh, migrated database on the server of `DATABASE_URL`; `drop()` removes it. */
export async function createBenchDatabase(name: string): Promise<BenchDatabase> {
  const dbName = `rekor_budget_${name}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(databaseUrl());
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

import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { createDb, type Database } from '@rekor-budget/db';
import { databaseUrl } from './services';

export interface TestDatabase {
  /** URL of this test file's own database. */
  url: string;
  db: Kysely<Database>;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file, cloned from the template the
 * global setup built. Call `drop()` in `afterAll`.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = process.env.REKOR_BUDGET_TEST_TEMPLATE;
  if (!template) {
    throw new Error(
      'REKOR_BUDGET_TEST_TEMPLATE is not set: run the tests through jest (the global setup builds the template)',
    );
  }
  const name = `rekor_budget_t_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  const u = new URL(databaseUrl());
  u.pathname = `/${name}`;
  const url = u.toString();
  const db = createDb({ url, max: 5, applicationName: 'rekor-budget-test' });
  return {
    url,
    db,
    async drop() {
      await db.destroy();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { createDb, migrateToLatest } from '@rekor-budget/db';
import { answers, databaseUrl, dockerAvailable, redisUrl } from './services';

/**
 * Jest global setup: finds Redis and Postgres (from REDIS_URL / DATABASE_URL,
 * else localhost, else testcontainers where a Docker engine answers), and
 * builds a migrated template database that every test file clones.
 */
export default async function globalSetup(): Promise<void> {
  await ensureRedis();
  await ensurePostgres();
  process.env.REKOR_BUDGET_TEST_TEMPLATE = await ensureTemplate(databaseUrl());
}

const containers: { stop(): Promise<unknown> }[] = [];
(globalThis as { __rekorBudgetContainers?: typeof containers }).__rekorBudgetContainers = containers;

async function ensureRedis(): Promise<void> {
  if (await answers(redisUrl(), 6379)) return;
  if (!process.env.REDIS_URL && dockerAvailable()) {
    const { GenericContainer } = await import('testcontainers');
    const c = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
    containers.push(c);
    process.env.REDIS_URL = `redis://${c.getHost()}:${c.getMappedPort(6379)}`;
    return;
  }
  throw new Error(
    `Redis does not answer at ${redisUrl()}. Start it (redis-server --daemonize yes, or docker compose up -d redis) or set REDIS_URL.`,
  );
}

async function ensurePostgres(): Promise<void> {
  if (await answers(databaseUrl(), 5432)) return;
  if (!process.env.DATABASE_URL && dockerAvailable()) {
    const { GenericContainer, Wait } = await import('testcontainers');
    const c = await new GenericContainer('postgres:16-alpine')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_DB: 'test' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    containers.push(c);
    process.env.DATABASE_URL = `postgres://postgres@${c.getHost()}:${c.getMappedPort(5432)}/test`;
    return;
  }
  throw new Error(
    `Postgres does not answer at ${databaseUrl()}. Start it (pg_ctlcluster <version> main start, or docker compose up -d postgres) or set DATABASE_URL.`,
  );
}

/** Name of the template for the current migrations; created and migrated once. */
async function ensureTemplate(url: string): Promise<string> {
  const migrationsDir = join(dirname(require.resolve('@rekor-budget/db')), 'migrations');
  const hash = createHash('sha256');
  for (const f of readdirSync(migrationsDir)
    .filter((f) => f.endsWith('.js'))
    .sort()) {
    hash.update(f).update(readFileSync(join(migrationsDir, f)));
  }
  const name = `rekor_budget_tpl_${hash.digest('hex').slice(0, 12)}`;

  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    // One creator at a time across concurrent jest runs.
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      const building = `${name}_building`;
      await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${building}`);
      const u = new URL(url);
      u.pathname = `/${building}`;
      const db = createDb({ url: u.toString(), max: 1 });
      try {
        await migrateToLatest(db);
      } finally {
        await db.destroy();
      }
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
      await admin.query(`ALTER DATABASE ${name} WITH IS_TEMPLATE true`);
    }
    await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
  } finally {
    await admin.end();
  }
  return name;
}

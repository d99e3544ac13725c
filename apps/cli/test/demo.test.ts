import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createReceiptStore } from '@rekor-budget/queue';
import {
  createTestRedis,
  createTestServices,
  deleteKeys,
  redisUrl,
  type TestServices,
} from '@rekor-budget/testing';
import { runCli } from './helpers';

jest.setTimeout(180_000);

/**
 * The demo beside this file's own key prefix (REDIS_PREFIX) and database
 * (DATABASE_URL), standing for a running system's: the demo takes
 * `<prefix>-demo` and `<database>_demo` and leaves those two alone.
 */
let s: TestServices;
let dir: string;
const demoPrefix = () => `${s.prefix}-demo`;
const demoDatabaseUrl = () => {
  const u = new URL(s.t.url);
  u.pathname = `${u.pathname}_demo`;
  return u.toString();
};

/** One number from a query on the demo's database. */
async function demoCount(sql: string): Promise<number> {
  const c = new pg.Client({ connectionString: demoDatabaseUrl() });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: string }>(sql);
    return Number(rows[0]!.n);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  s = await createTestServices('demo');
  dir = mkdtempSync(join(tmpdir(), 'rb-demo-'));
});
afterAll(async () => {
  const redis = createTestRedis();
  await deleteKeys(redis, demoPrefix());
  await redis.quit();
  const admin = new pg.Client({ connectionString: s.t.url });
  await admin.connect();
  const name = new URL(demoDatabaseUrl()).pathname.slice(1);
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  await admin.end();
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

test('`rekor-budget demo --once` runs the workload to completion: nothing lost, nothing logged twice, all verified', async () => {
  // the system the operator runs on this prefix and database
  await s.redis.set(`${s.prefix}:marker`, 'kept');
  const r = await runCli(['demo', '--once', '--json', '--work-dir', join(dir, 'work')], {
    cwd: dir,
    env: {
      REDIS_URL: redisUrl(),
      REDIS_PREFIX: s.prefix,
      DATABASE_URL: s.t.url,
      REKOR_URL: '',
      SIGNING_KEY: '',
    },
  });
  expect(r.stderr).toContain('time compression');
  expect(r.code).toBe(0);
  const summary = JSON.parse(r.stdout) as {
    tenants: {
      tenant: string;
      submitted: number;
      refused: number;
      created: number;
      duplicates: number;
      parkedForBudget: number;
      offlineThenDrained: number;
      verified: number;
      lost: number;
    }[];
    lost: number;
    unverified: number;
  };
  expect(summary.lost).toBe(0);
  expect(summary.unverified).toBe(0);
  const byName = Object.fromEntries(summary.tenants.map((x) => [x.tenant.split(' ')[0], x]));
  // acme: 45 scans at once against a burst cap of 33, plus one edge bundle
  expect(byName.acme).toMatchObject({
    submitted: 46,
    created: 46,
    parkedForBudget: 12,
    lost: 0,
    verified: 46,
  });
  // globex: a re-submitted scan is a duplicate; its outage submissions waited offline
  expect(byName.globex).toMatchObject({ duplicates: 1, offlineThenDrained: 8, lost: 0 });
  expect(byName.initech).toMatchObject({ refused: 1, offlineThenDrained: 8, lost: 0 });

  // the demo's database holds one receipt per accepted attestation, the log one entry each
  const created = summary.tenants.reduce((a, x) => a + x.created, 0);
  expect(await demoCount('SELECT count(*) AS n FROM attestor.rekor_entries')).toBe(created);
  expect(await demoCount('SELECT count(DISTINCT content_digest) AS n FROM attestor.rekor_entries')).toBe(
    created,
  );
  const log = join(dir, 'work', 'demo-rekor-local', 'entries.jsonl');
  expect(existsSync(log)).toBe(true);
  expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(created);
  expect(await demoCount('SELECT count(*) AS n FROM attestor.rekor_offline_queue')).toBe(0);

  // the operator's prefix and database saw nothing of it
  expect(r.stderr).toContain(`namespace redis prefix ${demoPrefix()}`);
  expect(await createReceiptStore(s.t.db).list({ limit: null })).toEqual([]);
  const theirs = [
    ...(await s.redis.keys(`${s.prefix}:*`)),
    ...(await s.redis.keys(`{${s.prefix}}*`)),
    ...(await s.redis.keys(`{${s.prefix}:*`)),
  ];
  expect(theirs).toEqual([`${s.prefix}:marker`]);
});

test('`rekor-budget demo` without --once is a usage error', async () => {
  const r = await runCli(['demo'], {
    cwd: dir,
    env: { REDIS_URL: redisUrl(), REDIS_PREFIX: s.prefix, DATABASE_URL: s.t.url },
  });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--once');
});

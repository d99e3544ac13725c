import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReceiptStore, OfflineQueue } from '@rekor-budget/queue';
import { createTestServices, redisUrl, type TestServices } from '@rekor-budget/testing';
import { runCli } from './helpers';

jest.setTimeout(180_000);

/** The demo on this file's own key prefix (REDIS_PREFIX) and database: nothing shared is flushed. */
let s: TestServices;
let dir: string;

beforeAll(async () => {
  s = await createTestServices('demo');
  dir = mkdtempSync(join(tmpdir(), 'rb-demo-'));
});
afterAll(async () => {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

test('`rekor-budget demo --once` runs the workload to completion: nothing lost, nothing logged twice, all verified', async () => {
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

  // Postgres holds one receipt per accepted attestation, the log one entry each
  const receipts = await createReceiptStore(s.t.db).list({ limit: null });
  const created = summary.tenants.reduce((a, x) => a + x.created, 0);
  expect(receipts).toHaveLength(created);
  expect(new Set(receipts.map((x) => x.contentDigest)).size).toBe(created);
  const log = join(dir, 'work', 'demo-rekor-local', 'entries.jsonl');
  expect(existsSync(log)).toBe(true);
  expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(created);
  expect(await new OfflineQueue(s.t.db).size()).toBe(0);
});

test('`rekor-budget demo` without --once is a usage error', async () => {
  const r = await runCli(['demo'], {
    cwd: dir,
    env: { REDIS_URL: redisUrl(), REDIS_PREFIX: s.prefix, DATABASE_URL: s.t.url },
  });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--once');
});

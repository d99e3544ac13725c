import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Worker } from 'bullmq';
import { loadConfig, TIERS, type RekorConfig } from '@rekor-budget/core';
import { createReceiptStore, OfflineQueue } from '@rekor-budget/queue';
import { loadSigner } from '@rekor-budget/rekor';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { createRuntime } from '@rekor-budget/runtime';
import {
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  redisUrl,
  uniquePrefix,
  waitFor,
  type TestDatabase,
} from '@rekor-budget/testing';
import { createTierWorker } from '@rekor-budget/worker';
import { runCli } from './helpers';

/**
 * The air-gapped workflow end to end, every step a real `rekor-budget`
 * process: two sites (two databases), one rekor-local reachable only from
 * the connected site's configuration.
 */
const TENANT = '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b';
const hex = (c: string) => c.repeat(64);

const dir = mkdtempSync(join(tmpdir(), 'rb-airgap-'));
const prefix = uniquePrefix('airgap');
let gapped: TestDatabase;
let connected: TestDatabase;
let rekor: RekorLocalServer;
let redis: Redis;
const keyPath = join(dir, 'signing.pem');

function writeConfig(name: string, rekorConfig: Record<string, unknown>): string {
  const file = join(dir, name);
  // JSON is YAML
  writeFileSync(file, JSON.stringify({ attestor: { rekor: rekorConfig } }, null, 2));
  return file;
}

let gappedYaml: string;
let connectedYaml: string;

/** Runs the CLI at a site; the environment points at that site's database only. */
function at(site: 'gapped' | 'connected', args: string[]) {
  const yaml = site === 'gapped' ? gappedYaml : connectedYaml;
  const db = site === 'gapped' ? gapped : connected;
  return runCli([...args, '--config', yaml], {
    env: { DATABASE_URL: db.url, REDIS_URL: redisUrl(), REKOR_URL: undefined, SIGNING_KEY: undefined },
    cwd: dir,
  });
}

function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** Graph and edge tier workers of a site, in process, while `body` runs. */
async function withWorkers<T>(config: RekorConfig, body: () => Promise<T>): Promise<T> {
  const runtime = await createRuntime({ config, name: 'rekor-budget-test', clock: Date.now });
  const signer = await loadSigner({ keyPath });
  const connections: Redis[] = [];
  const workers: Worker[] = [];
  try {
    for (const tier of TIERS) {
      const connection = createTestRedis();
      connections.push(connection);
      workers.push(createTierWorker({ runtime, tier, signer, connection }));
    }
    return await body();
  } finally {
    for (const w of workers) await w.close();
    for (const c of connections) await c.quit();
    await runtime.close();
  }
}

const offlineRows = async (t: TestDatabase) =>
  (await new OfflineQueue(t.db).list()).sort((a, b) => (a.content_digest < b.content_digest ? -1 : 1));
const receiptRows = async (t: TestDatabase) =>
  (await createReceiptStore(t.db).list({ limit: null })).sort((a, b) =>
    a.contentDigest < b.contentDigest ? -1 : 1,
  );

beforeAll(async () => {
  gapped = await createTestDatabase();
  connected = await createTestDatabase();
  redis = createTestRedis();
  rekor = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), fsync: false });
  const common = { tier: 'with-edges', redis: { url: redisUrl(), keyPrefix: prefix }, signing: { keyPath } };
  gappedYaml = writeConfig('gapped.yaml', {
    ...common,
    serverUrl: 'http://127.0.0.1:1',
    database: { url: gapped.url },
    offline: { airGapped: true },
  });
  connectedYaml = writeConfig('connected.yaml', {
    ...common,
    serverUrl: rekor.url,
    database: { url: connected.url },
    retry: { maxAttempts: 3, initialDelay: '00:00:00.050', maxDelay: '00:00:00.200' },
  });
});

afterAll(async () => {
  await rekor.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
  await gapped.drop();
  await connected.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('air-gapped round trip: submit, sign and store, export a kit, import it, carry the receipts back', async () => {
  // 1. a signing key, and three submissions at the air-gapped site
  expect((await runCli(['keygen', '--out', keyPath])).code).toBe(0);
  const edges = join(dir, 'edges.json');
  writeFileSync(edges, JSON.stringify([{ from: 'main', to: 'lzma_decode' }]));
  const subject = `registry.example/app@sha256:${hex('a')}`;
  for (const scan of ['scan-1', 'scan-2']) {
    const r = await at('gapped', [
      'submit',
      'graph',
      '--tenant',
      TENANT,
      '--scan-id',
      scan,
      '--subject',
      subject,
      '--graph-digest',
      `sha256:${hex(scan === 'scan-1' ? 'b' : 'c')}`,
      '--finished-at',
      '2025-12-20T10:00:00Z',
    ]);
    expect(r).toMatchObject({ code: 0, stdout: expect.stringMatching(/^queued/) });
  }
  const edge = await at('gapped', [
    'submit',
    'edge',
    '--tenant',
    TENANT,
    '--scan-id',
    'scan-3',
    '--subject',
    subject,
    '--graph-digest',
    `sha256:${hex('d')}`,
    '--cve',
    'CVE-2024-3094',
    '--cvss',
    '9.8',
    '--reachable',
    '--edges',
    edges,
    '--manual',
    'secteam',
    '--finished-at',
    '2025-12-20T10:00:00Z',
  ]);
  expect(edge).toMatchObject({ code: 0, stdout: expect.stringMatching(/^queued/) });

  // 2. air-gapped workers sign once and keep each envelope in the offline queue
  const config = loadConfig({ file: gappedYaml, cwd: dir, env: {} }).config;
  // closed before the export
  await withWorkers(config, () =>
    waitFor(async () => (await offlineRows(gapped)).length === 3, 20_000, 'the air-gapped rows'),
  );
  const rows = await offlineRows(gapped);
  expect(rows.every((r) => r.reason === 'air_gapped' && r.envelope !== null && r.exported_at === null)).toBe(
    true,
  );
  expect(rekor.treeSize()).toBe(0);

  // 3. export a kit: every row in it, rows marked exported and still there
  const kit = join(dir, 'kit');
  const exported = await at('gapped', ['offline', 'export', '--out', 'kit', '--site', 'lab', '--json']);
  expect(exported.code).toBe(0);
  const report = JSON.parse(exported.stdout);
  expect(report.manifest.entries).toHaveLength(3);
  expect(report.manifest.site).toMatchObject({ name: 'lab' });
  expect(readdirSync(join(kit, 'envelopes'))).toHaveLength(3);
  expect((await offlineRows(gapped)).every((r) => r.exported_at !== null)).toBe(true);
  const again = await at('gapped', ['offline', 'export', '--out', 'kit-again', '--json']);
  expect(JSON.parse(again.stdout).manifest.entries).toHaveLength(0);
  const all = await at('gapped', ['offline', 'export', '--out', 'kit-all', '--include-exported', '--json']);
  expect(
    JSON.parse(all.stdout)
      .manifest.entries.map((e: { sha256: string }) => e.sha256)
      .sort(),
  ).toEqual(report.manifest.entries.map((e: { sha256: string }) => e.sha256).sort());
  expect((await at('gapped', ['offline', 'export', '--out', 'kit'])).code).toBe(2);

  // 4. a tampered kit is refused at the connected site, nothing sent or stored
  const tampered = join(dir, 'kit-tampered');
  cpSync(kit, tampered, { recursive: true });
  const victim = join(tampered, report.manifest.entries[0].file);
  writeFileSync(victim, readFileSync(victim, 'utf8').replace('"keyHint":"', '"keyHint":"x'));
  const refused = await at('connected', ['offline', 'import', '--in', tampered]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('[FILE_DIGEST_MISMATCH]');
  expect(await receiptRows(connected)).toEqual([]);
  expect(rekor.treeSize()).toBe(0);
  const onGapped = await at('gapped', ['offline', 'import', '--in', kit]);
  expect(onGapped.code).toBe(2);
  expect(onGapped.stderr).toContain('[SITE_MISMATCH]');

  // 5. import at the connected site: through its tier queues and workers, three new
  //    log entries and their receipts
  const connectedConfig = loadConfig({ file: connectedYaml, cwd: dir, env: {} }).config;
  const imported = await withWorkers(connectedConfig, () =>
    at('connected', ['offline', 'import', '--in', kit, '--wait', '--timeout', '00:01:00']),
  );
  expect(imported.code).toBe(0);
  expect(imported.stdout).toContain(
    'queued 3, overflowed 0, already pending 0, already logged 0, rejected earlier 0, failed 0',
  );
  expect(imported.stdout).toContain('every queued entry is logged (3), 0 refused by the log');
  expect(rekor.treeSize()).toBe(3);
  expect((await receiptRows(connected)).map((r) => r.contentDigest)).toEqual(
    rows.map((r) => r.content_digest),
  );

  // 6. importing the same kit again queues and logs nothing new
  const reimported = await at('connected', ['offline', 'import', '--in', kit, '--json']);
  expect(reimported.code).toBe(0);
  expect(JSON.parse(reimported.stdout)).toMatchObject({ counts: { queued: 0, logged: 3, failed: 0 } });
  expect(rekor.treeSize()).toBe(3);
  expect(await receiptRows(connected)).toHaveLength(3);

  // 7. receipts travel back; `receipts` alone still lists
  const listed = await at('connected', ['receipts', '--tenant', TENANT, '--json']);
  expect(listed.code).toBe(0);
  expect(JSON.parse(listed.stdout)).toHaveLength(3);
  const exportedReceipts = await at('connected', [
    'receipts',
    'export',
    '--out',
    'receipts.json',
    '--tenant',
    TENANT,
  ]);
  expect(exportedReceipts).toMatchObject({ code: 0, stdout: expect.stringContaining('wrote 3 receipt(s)') });
  const otherTenant = await at('connected', [
    'receipts',
    'export',
    '--out',
    'none.json',
    '--tenant',
    '00000000-0000-4000-8000-000000000000',
  ]);
  expect(otherTenant).toMatchObject({ code: 0, stdout: expect.stringContaining('wrote 0 receipt(s)') });
  const rootFile = join(dir, 'trusted_root.json');
  writeFileSync(rootFile, await fetchText(`${rekor.url}/trusted_root.json`));

  // 8. a tampered receipts file is refused at the air-gapped site, nothing written
  const doc = JSON.parse(readFileSync(join(dir, 'receipts.json'), 'utf8'));
  doc.receipts[0].logIndex = 99;
  writeFileSync(join(dir, 'receipts-tampered.json'), JSON.stringify(doc));
  const bad = await at('gapped', [
    'receipts',
    'import',
    '--in',
    'receipts-tampered.json',
    '--trusted-root',
    rootFile,
  ]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('[RECEIPTS_DIGEST_MISMATCH]');
  expect(await offlineRows(gapped)).toHaveLength(3);
  expect(await receiptRows(gapped)).toEqual([]);

  // 9. the good file: bundles verified offline, receipts stored, air-gapped rows closed
  const back = await at('gapped', [
    'receipts',
    'import',
    '--in',
    'receipts.json',
    '--trusted-root',
    rootFile,
    '--key',
    `${keyPath}.pub`,
    '--json',
  ]);
  expect(back.code).toBe(0);
  expect(JSON.parse(back.stdout)).toEqual({ receipts: 3, stored: 3, closed: 3, verified: 3 });
  expect(await offlineRows(gapped)).toEqual([]);
  expect((await receiptRows(gapped)).map((r) => r.uuid)).toEqual(
    (await receiptRows(connected)).map((r) => r.uuid),
  );
}, 120_000);

test('usage errors exit 2 and name what to fix', async () => {
  const missing = await at('connected', ['offline', 'import', '--in', 'no-such-kit']);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('[KIT_NOT_FOUND]');
  // --timeout means nothing without --wait: refused, not ignored
  const timeoutAlone = await at('connected', ['offline', 'import', '--in', 'kit', '--timeout', '00:01:00']);
  expect(timeoutAlone.code).toBe(2);
  expect(timeoutAlone.stderr).toContain('--timeout: is how long --wait waits');
  expect((await at('gapped', ['offline', 'export'])).code).toBe(2);
  // receipts are verified, or --no-verify says otherwise (finding 4)
  const unverified = await at('gapped', ['receipts', 'import', '--in', 'receipts.json']);
  expect(unverified.code).toBe(2);
  expect(unverified.stderr).toContain('[VERIFICATION_REQUIRED]');
  const noFile = await at('gapped', ['receipts', 'import', '--in', 'no-such-file.json']);
  expect(noFile.code).toBe(2);
  expect(noFile.stderr).toContain('[KIT_NOT_FOUND]');
  // a trusted root that is not JSON is named as such; --no-verify beside one is refused, not ignored
  writeFileSync(join(dir, 'not-a-root.json'), 'not json');
  const importReceipts = (...flags: string[]) =>
    at('gapped', ['receipts', 'import', '--in', 'receipts.json', ...flags]);
  const notJson = await importReceipts('--trusted-root', 'not-a-root.json');
  expect(notJson.code).toBe(2);
  expect(notJson.stderr).toContain('--trusted-root: not-a-root.json is not JSON');
  expect(notJson.stderr).toContain('[INVALID_INPUT]');
  const both = await importReceipts('--no-verify', '--trusted-root', 'no-such-root.json');
  expect(both.code).toBe(2);
  expect(both.stderr).toContain(
    '--no-verify: stores the receipts unchecked, so --trusted-root would be ignored',
  );
  for (const since of ['yesterday', '2025-02-30', '2025-12-20T10:00:00']) {
    const r = await at('connected', ['receipts', 'export', '--out', 'x.json', '--since', since]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('use an RFC 3339 time with its offset or a date that exists');
  }
});

test('offline import checks the kit against the given or configured signing key (finding 3)', async () => {
  // a kit signed by the air-gapped key (test 1 made it), checked at a site with another key
  const other = join(dir, 'other.pem');
  expect((await runCli(['keygen', '--out', other])).code).toBe(0);
  const untrusted = await at('connected', ['offline', 'import', '--in', 'kit', '--key', `${other}.pub`]);
  expect(untrusted.code).toBe(1);
  expect(untrusted.stderr).toContain('[KEY_UNTRUSTED]');
  const noKeyYaml = writeConfig('no-key.yaml', {
    tier: 'with-edges',
    serverUrl: rekor.url,
    redis: { url: redisUrl(), keyPrefix: prefix },
    database: { url: connected.url },
  });
  const env = {
    DATABASE_URL: connected.url,
    REDIS_URL: redisUrl(),
    REKOR_URL: undefined,
    SIGNING_KEY: undefined,
  };
  const noKey = await runCli(['offline', 'import', '--in', 'kit', '--config', noKeyYaml], { env, cwd: dir });
  expect(noKey.code).toBe(2);
  expect(noKey.stderr).toContain('[KEY_REQUIRED]');
  const given = await runCli(
    ['offline', 'import', '--in', 'kit', '--key', `${keyPath}.pub`, '--config', noKeyYaml],
    {
      env,
      cwd: dir,
    },
  );
  expect(given).toMatchObject({ code: 0, stderr: '' });
  expect(given.stdout).toContain('already logged 3');
});

test('receipts import --no-verify stores unchecked, and says so', async () => {
  const r = await at('gapped', ['receipts', 'import', '--in', 'receipts.json', '--no-verify', '--json']);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/warning: --no-verify/);
  expect(JSON.parse(r.stdout)).toMatchObject({ receipts: 3, verified: 0 });
});

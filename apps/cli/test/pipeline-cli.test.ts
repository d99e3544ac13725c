import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { writeKeyPair } from '@rekor-budget/rekor';
import { contentDigest, validateGraphInput } from '@rekor-budget/core';
import { OfflineQueue } from '@rekor-budget/queue';
import {
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  freePort,
  graphInput,
  redisUrl,
  uniquePrefix,
  type TestDatabase,
} from '@rekor-budget/testing';
import { BIN, escalatedFindingFlags, runCli } from './helpers';

jest.setTimeout(60_000);

const TENANT = '6f1d3c2a-0b4e-4f5a-9c8d-7e6f5a4b3c2d';
const hex = (c: string) => c.repeat(64);
let t: TestDatabase;
let rekor: RekorLocalServer;
let dir: string;
let configFile: string;
const prefix = uniquePrefix('cli');
const env = { REDIS_URL: '', DATABASE_URL: '', REKOR_URL: '', SIGNING_KEY: '' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rb-cli-pipe-'));
  t = await createTestDatabase();
  rekor = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), faults: true, fsync: false });
  const key = await writeKeyPair(join(dir, 'k.pem'));
  configFile = writeConfig('attestor.yaml', {
    signing: { keyPath: key.privateKeyPath },
    retry: { maxAttempts: 1 },
  });
});

/** A config file in the test's directory: this run's log, Redis and database, and `more`. */
function writeConfig(name: string, more: Record<string, unknown>): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    stringify({
      attestor: {
        rekor: {
          serverUrl: rekor.url,
          // the shared test Redis keeps nothing on disk
          redis: { url: redisUrl(), keyPrefix: prefix, requireDurable: false },
          database: { url: t.url },
          ...more,
        },
      },
    }),
  );
  return file;
}

afterAll(async () => {
  await rekor.close();
  const redis = createTestRedis();
  await deleteKeys(redis, prefix);
  await redis.quit();
  await t.drop();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli([...args, '--config', configFile], { env });
const submitArgs = (scan: string) => [
  'submit',
  'graph',
  '--tenant',
  TENANT,
  '--graph-digest',
  `sha256:${hex('a')}`,
  '--scan-id',
  scan,
  '--subject',
  `registry.example/app@sha256:${hex('b')}`,
  '--finished-at',
  '2025-12-20T10:00:00Z',
  '--json',
];

test('submit, worker, status, receipts and drain work together as real processes', async () => {
  const first = await cli(...submitArgs('scan-1'));
  expect(first.code).toBe(0);
  expect(JSON.parse(first.stdout)).toMatchObject({ status: 'queued', tier: 'graph' });
  expect(JSON.parse((await cli(...submitArgs('scan-1'))).stdout)).toMatchObject({ status: 'duplicate' });

  const bad = await cli(
    'submit',
    'graph',
    '--tenant',
    'acme',
    '--graph-digest',
    'sha256:x',
    '--scan-id',
    's',
    '--subject',
    'a@sha256:b',
    '--finished-at',
    '2025-12-20T10:00:00Z',
  );
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('INVALID_TENANT');

  const refused = await cli(
    ...submitArgs('scan-2').slice(0, 1),
    'edge',
    ...submitArgs('scan-2').slice(2, -1),
    ...escalatedFindingFlags(join(dir, 'edges.json')),
  );
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('TIER_DISABLED');

  const before = JSON.parse((await cli('status', '--json')).stdout);
  expect(before.queues.graph.waiting).toBe(1);
  expect(before.rekor.reachable).toBe(true);

  const worker = spawn(
    process.execPath,
    [BIN, 'worker', '--role', 'graph', '--no-metrics', '--config', configFile],
    {
      env: { ...process.env, ...env },
    },
  );
  let out = '';
  worker.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => worker.once('exit', r));
  const deadline = Date.now() + 30_000;
  let receipts: { tenantId: string; logIndex: number; bundle: { mediaType: string } }[] = [];
  while (receipts.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    receipts = JSON.parse((await cli('receipts', '--json')).stdout);
  }
  worker.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(out).toContain('worker: stopped');
  expect(receipts).toHaveLength(1);
  expect(receipts[0]).toMatchObject({ tenantId: TENANT, logIndex: 0 });
  expect(receipts[0]!.bundle.mediaType).toMatch(/application\/vnd\.dev\.sigstore\.bundle/);

  const after = JSON.parse((await cli('status', '--json')).stdout);
  expect(after.queues.graph.completed).toBe(1);
  expect(after.tenants).toEqual([
    expect.objectContaining({
      tenantId: TENANT,
      tier: 'graph',
      windows: [
        { name: 'hour', used: 1, limit: 100 },
        { name: 'burst', used: 1, limit: 33 },
      ],
      nextFreeAt: null,
    }),
  ]);
  const human = await cli('status');
  expect(human.stdout).toMatch(/hour\s+\[#?\.+\] 1\/100/);

  rekor.faults.set({ mode: 'offline' });
  const down = await cli('drain', '--json');
  expect(down.code).toBe(1);
  expect(JSON.parse(down.stdout)).toMatchObject({ rekorUp: false });
  rekor.faults.clear();
  const up = await cli('drain', '--json');
  expect(up.code).toBe(0);
  expect(JSON.parse(up.stdout)).toEqual({
    rekorUp: true,
    moved: { graph: 0, edge: 0 },
    heldBack: { graph: 0, edge: 0 },
  });
});

test('drain leaves submissions that wait for the timestamp authority offline while it grants nothing, and says so', async () => {
  const input = validateGraphInput(graphInput(TENANT, 'scan-tsa'));
  const data = {
    version: 1 as const,
    tier: 'graph' as const,
    contentDigest: contentDigest('graph', input),
    input,
    enqueuedAt: Date.now(),
  };
  const offline = new OfflineQueue(t.db);
  expect((await offline.add(data, 'timestamp_unavailable')).inserted).toBe(true);
  const withTsa = (url: string, name: string) => writeConfig(name, { timestampAuthority: { url } });
  const down = withTsa(`http://127.0.0.1:${await freePort()}/api/v1/timestamp`, 'tsa-down.yaml');
  const held = await runCli(['drain', '--config', down], { env });
  expect(held.code).toBe(0);
  expect(held.stdout).toContain('moved 0 graph and 0 edge submissions');
  expect(held.stdout).toMatch(
    /submissions waiting for the timestamp authority stay in the offline queue: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/timestamp grants no timestamp \(ECONNREFUSED\)/,
  );
  expect(await offline.has(data.contentDigest)).toBe(true);

  const up = withTsa(`${rekor.url}/api/v1/timestamp`, 'tsa-up.yaml');
  const moved = await runCli(['drain', '--json', '--config', up], { env });
  expect(JSON.parse(moved.stdout)).toMatchObject({
    rekorUp: true,
    moved: { graph: 1, edge: 0 },
    timestampAuthority: { reachable: true, detail: 'granted' },
  });
  expect(await offline.has(data.contentDigest)).toBe(false);
});

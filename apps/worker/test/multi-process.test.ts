import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigObject } from '@rekor-budget/core';
import { createRekorProducer } from '@rekor-budget/producer';
import { writeKeyPair } from '@rekor-budget/rekor';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { createRuntime, type Runtime } from '@rekor-budget/runtime';
import { createTestServices, graphInput, redisUrl, waitFor, type TestServices } from '@rekor-budget/testing';

jest.setTimeout(240_000);

const PROCESSES = 4;
const TENANTS = 100;
const PER_TENANT = 100;
/** 2 units per 10 s and 5 an hour, on the Redis clock: units free while the test runs. */
const BUDGET = { hourlyLimit: 5, burstLimit: 720, burstWindow: '00:00:10' };
const BURST_MS = 10_000;
const BURST_CAP = 2;
const HOUR_CAP = 5;

let dir: string;
let s: TestServices;
let rekor: RekorLocalServer;
let runtime: Runtime;
const children: ChildProcess[] = [];

afterAll(async () => {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
  await runtime?.close();
  await rekor?.close();
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a worker process (graph tier and its release loop) and resolves once it runs. */
function startWorkerProcess(configFile: string): Promise<ChildProcess> {
  const fixture = join(__dirname, 'fixtures', 'worker-process.ts');
  const child = spawn(process.execPath, ['-r', require.resolve('@swc-node/register'), fixture, configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker process exited with ${code}: ${err}`)));
  });
}

test('4 worker processes, a 10,000-job backlog across 100 tenants: the budget never over-admits, nothing is lost or logged twice', async () => {
  dir = mkdtempSync(join(tmpdir(), 'rb-multi-'));
  s = await createTestServices('multi');
  rekor = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), fsync: false });
  const key = await writeKeyPair(join(dir, 'signing.pem'));
  const raw = {
    attestor: {
      rekor: {
        serverUrl: rekor.url,
        redis: { url: redisUrl(), keyPrefix: s.prefix, requireDurable: false },
        database: { url: s.t.url },
        signing: { keyPath: key.privateKeyPath },
        budget: BUDGET,
        requestTimeout: '00:00:05',
      },
    },
  };
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(raw));
  const config = parseConfigObject(raw, { source: 'test', env: {} });
  runtime = await createRuntime({ config, name: 'rekor-budget-test' });

  await Promise.all(Array.from({ length: PROCESSES }, () => startWorkerProcess(configFile)));

  const tenants = Array.from({ length: TENANTS }, () => randomUUID());
  const producer = createRekorProducer({ config, redis: s.redis, db: runtime.db, budget: runtime.budget });
  try {
    const requests = tenants.flatMap((t) =>
      Array.from({ length: PER_TENANT }, (_, i) => ({
        tier: 'graph' as const,
        input: graphInput(t, `m-${i}`),
      })),
    );
    const results = await producer.submitMany(requests);
    expect(results.every((r) => r.status === 'queued')).toBe(true);
  } finally {
    await producer.close();
  }

  // each tenant gets its hourly 5 (2, then 2 more 10 s later, then 1), the rest wait parked
  const total = TENANTS * HOUR_CAP;
  await waitFor(async () => (await runtime.receipts.count()) >= total, 180_000, `${total} receipts`);
  const receipts = await runtime.receipts.list({ limit: null });
  expect(receipts).toHaveLength(total);
  expect(new Set(receipts.map((r) => r.contentDigest)).size).toBe(total);
  expect((await runtime.client.logInfo()).treeSize).toBe(total);

  const parked = await runtime.parking.countByTenant('graph', tenants);
  for (const t of tenants) {
    expect(receipts.filter((r) => r.tenantId === t)).toHaveLength(HOUR_CAP);
    expect(parked.get(t)).toBe(PER_TENANT - HOUR_CAP);
    // every unit of the tenant, on the Redis clock: at most 2 in any 10 s, 5 in the hour
    const scores = (await s.redis.zrange(runtime.keys.budgetUnits(t, 'graph'), 0, -1, 'WITHSCORES'))
      .filter((_, i) => i % 2 === 1)
      .map(Number)
      .sort((x, y) => x - y);
    expect(scores).toHaveLength(HOUR_CAP);
    for (let i = BURST_CAP; i < scores.length; i++) {
      expect(scores[i]! - scores[i - BURST_CAP]!).toBeGreaterThanOrEqual(BURST_MS);
    }
  }
  // nothing lost: every submission is logged or parked
  expect(receipts.length + [...parked.values()].reduce((a, b) => a + b, 0)).toBe(TENANTS * PER_TENANT);
});

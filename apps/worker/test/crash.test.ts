import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { toFileConfig } from '@rekor-budget/core';
import { createHarness, graphInput, waitFor, type Harness } from './harness';

jest.setTimeout(120_000);

const BIN = join(__dirname, '..', '..', 'cli', 'bin', 'rekor-budget.js');

let h: Harness;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  const exited = running.map((c) => new Promise((r) => c.once('exit', r)));
  for (const c of running) c.kill('SIGKILL');
  await Promise.all(exited);
  await h.close();
});

/** The `rekor-budget worker` binary as a real process, on the harness's Redis, Postgres and Rekor. */
function startWorkerProcess(configFile: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'worker',
      '--role',
      'graph',
      '--config',
      configFile,
      '--no-metrics',
      '--concurrency',
      '16',
      '--lock-duration',
      '2000',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, REDIS_URL: '', DATABASE_URL: '', REKOR_URL: '', SIGNING_KEY: '' },
    },
  );
  child.stdout!.resume();
  child.stderr!.resume();
  children.push(child);
  return child;
}

test('a worker killed with SIGKILL mid-batch: after a restart every job completes and the log has no duplicates', async () => {
  const c = h.config;
  const configFile = join(tmpdir(), `rb-crash-${process.pid}.yaml`);
  writeFileSync(
    configFile,
    stringify({
      attestor: {
        rekor: {
          serverUrl: c.serverUrl,
          redis: toFileConfig(c).redis,
          database: c.database,
          signing: { keyPath: c.signing.keyPath },
          retry: { maxAttempts: 3, initialDelay: '00:00:00.050', maxDelay: '00:00:00.200' },
          // a killed worker's content locks lapse after one request timeout and 15 s
          requestTimeout: '00:00:05',
        },
      },
    }),
  );
  const tenants = Array.from({ length: 10 }, () => randomUUID());
  const total = 200;
  for (let i = 0; i < total; i++)
    await h.producer.submitGraphAttestation(graphInput(tenants[i % 10]!, `k-${i}`));

  // each POST takes 50 ms, so the batch is still running when the worker dies
  h.rekor.faults.set({ mode: 'slow', delayMs: 50 });
  const first = startWorkerProcess(configFile);
  await waitFor(async () => (await h.receipts()).length >= 40, 60_000, '40 receipts from the first worker');
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  const atKill = (await h.receipts()).length;
  expect(atKill).toBeLessThan(total);

  h.rekor.faults.clear();
  startWorkerProcess(configFile);
  await waitFor(
    async () => (await h.queues.graph.getCompletedCount()) === total,
    90_000,
    'every job to complete after the restart',
  );
  const receipts = await h.receipts();
  expect(receipts).toHaveLength(total);
  expect(new Set(receipts.map((r) => r.contentDigest)).size).toBe(total);
  // one log entry per submission: nothing was logged twice
  expect(await h.treeSize()).toBe(total);
  expect(new Set(receipts.map((r) => r.logIndex)).size).toBe(total);
});

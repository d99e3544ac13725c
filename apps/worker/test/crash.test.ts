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
/** Every worker process a test started is gone before the next test (it would take that test's jobs). */
afterEach(async () => {
  const running = children.splice(0).filter((c) => c.exitCode === null && c.signalCode === null);
  const exited = running.map((c) => new Promise((r) => c.once('exit', r)));
  for (const c of running) c.kill('SIGKILL');
  await Promise.all(exited);
});
afterAll(async () => {
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

/** The harness's services as a worker process's attestor.yaml. */
function writeConfig(name: string, requestTimeout = '00:00:05'): string {
  const c = h.config;
  const configFile = join(tmpdir(), `rb-crash-${process.pid}-${name}.yaml`);
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
          requestTimeout,
        },
      },
    }),
  );
  return configFile;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

test('a worker killed with SIGKILL mid-batch: after a restart every job completes and the log has no duplicates', async () => {
  const configFile = writeConfig('batch');
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

test('jobs whose workers are killed twice mid-request are not failed: the third worker logs each once', async () => {
  // each request may take 30 s: a run stays active while Rekor does not answer
  const configFile = writeConfig('twice', '00:00:30');
  const receiptsBefore = (await h.receipts()).length;
  const treeBefore = h.rekor.treeSize();
  // Rekor takes each POST into the log and never answers, nor any look-up
  h.rekor.faults.set({ mode: 'hang' });
  const tenant = randomUUID();
  const submitted: { jobId: string; contentDigest: string }[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await h.producer.submitGraphAttestation(graphInput(tenant, `twice-${i}`));
    expect(r.status).toBe('queued');
    submitted.push(r);
  }
  const jobs = async () => Promise.all(submitted.map((x) => h.queues.graph.getJob(x.jobId)));
  /** Every job running in a worker again after `n` stalls. */
  const runningAfterStalls = (n: number) => async () => {
    const all = await jobs();
    if (!all.every((j) => j !== undefined && (j.stalledCounter ?? 0) >= n)) return false;
    const states = await Promise.all(all.map((j) => j!.getState()));
    return states.every((st) => st === 'active');
  };
  // a dead worker's content locks lapse (after a request timeout and 15 s): here at once
  const locksLapse = () =>
    Promise.all(submitted.map((x) => h.redis.del(h.runtime.keys.inflight(x.contentDigest))));

  const first = startWorkerProcess(configFile);
  // (the server's own count: its read API hangs as well)
  await waitFor(() => h.rekor.treeSize() === treeBefore + 3, 30_000, 'the three POSTs in the log');
  await kill(first);
  await locksLapse();
  // the second worker takes the stalled jobs over; its look-ups hang
  const second = startWorkerProcess(configFile);
  await waitFor(runningAfterStalls(1), 60_000, 'the jobs running again after one stall');
  await kill(second);
  await locksLapse();

  h.rekor.faults.clear();
  startWorkerProcess(configFile);
  await waitFor(
    async () => (await h.receipts()).length === receiptsBefore + 3,
    90_000,
    'the three receipts after the second stall',
  );
  expect(await h.queues.graph.getFailedCount()).toBe(0);
  for (const j of await jobs()) expect(j!.stalledCounter).toBeGreaterThanOrEqual(2);
  // each content reached the log once: the later runs found the entries
  expect(h.rekor.treeSize()).toBe(treeBefore + 3);
});

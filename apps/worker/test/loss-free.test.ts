import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { toFileConfig } from '@rekor-budget/core';
import { submissionOf } from '@rekor-budget/queue';
import { buildStatement, receiptFromOutcome, signEnvelope } from '@rekor-budget/rekor';
import {
  startPrivatePostgres,
  startPrivateRedis,
  type PrivatePostgres,
  type PrivateRedis,
} from '@rekor-budget/testing';
import { createHarness, graphInput, waitFor, type Harness } from './harness';

/**
 * Nothing lost, nothing logged twice, under the faults an operator meets:
 * every test ends with each accepted content logged exactly once (tree size
 * equals unique contents), a receipt for each, and no job in `failed`.
 */
jest.setTimeout(180_000);

const BIN = join(__dirname, '..', '..', 'cli', 'bin', 'rekor-budget.js');

let h: Harness | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every content logged once, with its receipt, nothing failed. */
async function expectEachLoggedOnce(harness: Harness, contents: string[]): Promise<void> {
  const unique = [...new Set(contents)].sort();
  await waitFor(
    async () => (await harness.receipts()).length === unique.length,
    90_000,
    `${unique.length} receipts`,
  );
  const receipts = await harness.receipts();
  expect(receipts.map((r) => r.contentDigest).sort()).toEqual(unique);
  expect(await harness.treeSize()).toBe(unique.length);
  expect(new Set(receipts.map((r) => r.logIndex)).size).toBe(unique.length);
  expect(await harness.queues.graph.getFailedCount()).toBe(0);
}

async function submitMany(harness: Harness, n: number, tenant = randomUUID()): Promise<string[]> {
  const digests: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await harness.producer.submitGraphAttestation(graphInput(tenant, `scan-${i}-${randomUUID()}`));
    expect(['queued', 'overflowed']).toContain(r.status);
    digests.push(r.contentDigest);
  }
  return digests;
}

/** Units of the tenant's hourly window in use: one per POST that reached Rekor. */
async function unitsUsed(harness: Harness, tenant: string): Promise<number> {
  const st = await harness.runtime.budget.peek(tenant, 'graph');
  return st.windows.find((w) => w.name === 'hour')!.used;
}

test('Rekor answers 503 for longer than every attempt: the submissions wait offline, then each is logged once', async () => {
  h = await createHarness();
  h.rekor.faults.set({ mode: '503' });
  h.startWorker('graph');
  const tenant = randomUUID();
  const contents = await submitMany(h, 5, tenant);
  await waitFor(
    async () => (await h!.offlineRows()).filter((r) => r.reason === 'rekor_error').length === 5,
    30_000,
    'five offline rows (rekor_error)',
  );
  expect(await h.queues.graph.getFailedCount()).toBe(0);
  // every POST reached Rekor: 3 attempts each, none refunded
  expect(await unitsUsed(h, tenant)).toBe(15);

  h.rekor.faults.clear();
  await h.drainer().drainOnce();
  await expectEachLoggedOnce(h, contents);
  expect(await h.offlineRows()).toEqual([]);
  expect(await unitsUsed(h, tenant)).toBe(20);
});

test('Rekor takes each request and never answers: after the timeouts it waits offline, then each is logged once', async () => {
  h = await createHarness({ requestTimeout: '00:00:01' });
  // a POST is logged, its answer never leaves: the worst case for "was it logged?"
  h.rekor.faults.set({ mode: 'hang' });
  h.startWorker('graph');
  const contents = await submitMany(h, 3);
  await waitFor(
    async () => (await h!.offlineRows()).filter((r) => r.reason === 'rekor_timeout').length === 3,
    60_000,
    'three offline rows (rekor_timeout)',
  );
  expect(await h.queues.graph.getFailedCount()).toBe(0);
  // each envelope was logged by its first POST; the same bytes again were Rekor's duplicate
  expect(h.rekor.treeSize()).toBe(3);

  h.rekor.faults.clear();
  await h.drainer().drainOnce();
  await expectEachLoggedOnce(h, contents);
});

test('a 409 whose entry fetch fails is retried, never refunded; the next attempt stores the receipt', async () => {
  h = await createHarness({ requestTimeout: '00:00:01' });
  // attempt 1: the POST is logged but unanswered; attempt 2: 409, then the GET fails
  h.rekor.faults.set({ mode: 'hang', method: 'POST', count: 1 });
  const followUp = () => {
    if (h!.rekor.faults.current() === undefined && !armed) {
      armed = true;
      // the look-up before attempt 2 and the fetch after its 409 both fail
      h!.rekor.faults.set({ mode: '503', method: 'GET', count: 2 });
    }
  };
  let armed = false;
  h.rekor.faults.onChange(followUp);
  h.startWorker('graph');
  const tenant = randomUUID();
  const contents = await submitMany(h, 1, tenant);
  await expectEachLoggedOnce(h, contents);
  expect(armed).toBe(true);
  expect(h.rekor.faults.current()).toBeUndefined();
  // two POSTs reached Rekor (hang, then 409 + failed GET): two units, none given back;
  // attempt 3 found the entry by looking it up, without a POST or a unit
  expect(await unitsUsed(h, tenant)).toBe(2);
});

test('a POST left unanswered is looked up before the content is sent again: found, no second POST, no second unit', async () => {
  h = await createHarness({ requestTimeout: '00:00:01' });
  h.rekor.faults.set({ mode: 'hang', method: 'POST', count: 1 });
  h.startWorker('graph');
  const tenant = randomUUID();
  const contents = await submitMany(h, 1, tenant);
  await expectEachLoggedOnce(h, contents);
  expect(await unitsUsed(h, tenant)).toBe(1);
  await waitFor(async () => (await h!.queues.graph.getCompletedCount()) === 1, 30_000, 'the completion');
  const [job] = await h.queues.graph.getCompleted();
  expect(job?.returnvalue).toMatchObject({ status: 'duplicate' });
  expect(job?.attemptsMade).toBe(2);
});

test('Postgres stopped mid-run: jobs wait without spending attempts, and all are logged once it is back', async () => {
  const pg: PrivatePostgres = await startPrivatePostgres();
  cleanups.push(() => pg.destroy());
  h = await createHarness({}, { databaseUrl: pg.url });
  const worker = h.startWorker('graph');
  let runs = 0;
  worker.on('active', () => (runs += 1));
  const before = await submitMany(h, 2);
  await waitFor(async () => (await h!.receipts()).length === 2, 20_000, 'two receipts before the outage');

  await pg.stop();
  const during = await submitMany(h, 4);
  // every job ran at least as often as it has attempts: before, each would now be `failed`
  await waitFor(async () => runs >= 2 + 4 * h!.config.retry.maxAttempts, 60_000, 'repeated runs');
  expect(await h.queues.graph.getFailedCount()).toBe(0);

  await pg.start();
  await expectEachLoggedOnce(h, [...before, ...during]);
});

test('Redis killed and restarted mid-run (AOF, appendfsync always): every accepted submission is logged once', async () => {
  const redis: PrivateRedis = await startPrivateRedis({ durable: true });
  cleanups.push(() => redis.destroy());
  h = await createHarness({}, { redisUrl: redis.url });
  h.rekor.faults.set({ mode: 'slow', delayMs: 100 });
  h.startWorker('graph', { lockDurationMs: 2_000 });
  const contents = await submitMany(h, 12);
  await waitFor(async () => (await h!.receipts()).length >= 3, 30_000, 'three receipts before the crash');
  await redis.kill();
  await redis.start();
  h.rekor.faults.clear();
  await expectEachLoggedOnce(h, contents);
});

test('an add that landed after the producer timed out: the offline copy and the queued job log the content once', async () => {
  // The producer answers `overflowed` and stores an offline row when Redis does not
  // answer in time; an add it had already sent may still land. That leaves both copies
  // of one content: made here through the same stores, without racing a timer.
  h = await createHarness();
  const r = await h.producer.submitGraphAttestation(graphInput(randomUUID(), 'landed-late'));
  expect(r.status).toBe('queued');
  const job = (await h.queues.graph.getJob(r.jobId))!;
  expect((await h.runtime.offline.add(job.data, 'redis_unavailable')).inserted).toBe(true);

  h.startWorker('graph');
  await h.drainer().drainOnce();
  await expectEachLoggedOnce(h, [r.contentDigest]);
  await waitFor(async () => (await h!.offlineRows()).length === 0, 30_000, 'the offline copy drained');
});

test('a copy whose content a former shard holds is not logged again in the current one', async () => {
  // Two copies of one content; the first was logged (and its receipt stored) in the
  // shard the signing config named then, which has since been frozen and rotated:
  // the receipt names that shard's URL, not the one the workers write to now.
  h = await createHarness();
  const tenantId = randomUUID();
  const r = await h.producer.submitGraphAttestation(graphInput(tenantId, 'former-shard'));
  expect(r.status).toBe('queued');
  const job = (await h.queues.graph.getJob(r.jobId))!;
  const outcome = await h.runtime.client.submit(
    signEnvelope(buildStatement(submissionOf(job.data)), h.signer),
  );
  if (outcome.kind !== 'created') throw new Error(`rekor-local answered ${outcome.kind}`);
  const receipt = receiptFromOutcome(outcome, { tenantId, tier: 'graph', contentDigest: r.contentDigest });
  expect(await h.runtime.receipts.save({ ...receipt, logUrl: 'https://log-2025.example.org' })).toBe(true);

  h.startWorker('graph');
  await waitFor(async () => (await h!.queues.graph.getCompleted()).length === 1, 30_000, 'the job done');
  expect((await h.queues.graph.getCompleted())[0]!.returnvalue).toEqual({ status: 'already_logged' });
  // one entry in all: the current log holds only the first copy's test entry, no second POST
  expect(await h.treeSize()).toBe(1);
  expect(await h.receipts()).toHaveLength(1);
});

test('a worker frozen past its lock while another takes its job over: the content is logged once', async () => {
  h = await createHarness({ requestTimeout: '00:00:02' });
  const c = h.config;
  const configFile = join(tmpdir(), `rb-frozen-${process.pid}-${randomUUID()}.yaml`);
  writeFileSync(
    configFile,
    stringify({
      attestor: {
        rekor: {
          serverUrl: c.serverUrl,
          redis: toFileConfig(c).redis,
          database: c.database,
          signing: { keyPath: c.signing.keyPath },
          requestTimeout: '00:00:02',
          retry: { maxAttempts: 3, initialDelay: '00:00:00.050', maxDelay: '00:00:00.200' },
        },
      },
    }),
  );
  const start = (): ChildProcess => {
    const child = spawn(
      process.execPath,
      [BIN, 'worker', '--role', 'graph', '--config', configFile, '--no-metrics', '--lock-duration', '1000'],
      { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, REDIS_URL: '', DATABASE_URL: '' } },
    );
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    cleanups.push(async () => {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    });
    return child;
  };
  // the POST is held 1.5 s by Rekor: worker A is frozen while its request is out
  h.rekor.faults.set({ mode: 'slow', delayMs: 1_500, count: 1 });
  const a = start();
  const [content] = await submitMany(h, 1);
  await waitFor(async () => h!.rekor.faults.current() === undefined, 30_000, "worker A's POST");
  a.kill('SIGSTOP');
  const b = start();
  // B takes the job over once A's BullMQ lock lapses, and POSTs once A's content lock lapses
  await waitFor(async () => (await h!.receipts()).length === 1, 90_000, "B's receipt");
  a.kill('SIGCONT');
  await waitFor(async () => (await h!.queues.graph.getCompletedCount()) === 1, 30_000, 'completion');
  await expectEachLoggedOnce(h, [content!]);
  b.kill('SIGTERM');
});

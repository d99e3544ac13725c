import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { edgeInput, startPrivateCluster, startPrivateSentinel } from '@rekor-budget/testing';
import { createHarness, graphInput, waitFor, type Harness, type HarnessServices } from './harness';

jest.setTimeout(60_000);

/** A Redis the pipeline runs on: the shared one, or a private topology started for this file. */
interface RedisUnderTest {
  services: HarnessServices;
  destroy(): Promise<void>;
}

/**
 * Every test runs on each topology a deployment may use: one Redis, a Redis
 * Cluster of three masters (each tier queue and each tenant's budget on its
 * own hash tag), and Redis Sentinel (a master, a replica, a sentinel).
 */
const TOPOLOGIES: [string, () => Promise<RedisUnderTest>][] = [
  ['one Redis', async () => ({ services: {}, destroy: async () => undefined })],
  [
    'a Redis Cluster of three masters',
    async () => {
      const cluster = await startPrivateCluster();
      return {
        services: { topology: { cluster: { nodes: cluster.nodes } } },
        destroy: () => cluster.destroy(),
      };
    },
  ],
  [
    'Redis Sentinel',
    async () => {
      const sentinel = await startPrivateSentinel();
      return {
        services: { topology: { sentinel: { name: sentinel.name, nodes: sentinel.sentinels } } },
        destroy: () => sentinel.destroy(),
      };
    },
  ],
];

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Waits until the tier queue has nothing waiting or running. */
async function settled(harness: Harness, tier: 'graph' | 'edge' = 'graph') {
  await waitFor(
    async () => {
      const c = await harness.queues[tier].getJobCounts('waiting', 'active', 'prioritized');
      return (c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) === 0;
    },
    30_000,
    'the queue to settle',
  );
}

describe.each(TOPOLOGIES)('pipeline on %s, Postgres and rekor-local', (_name, start) => {
  let redis: RedisUnderTest | undefined;
  beforeAll(async () => {
    redis = await start();
  }, 120_000);
  afterAll(async () => {
    await redis?.destroy();
  });
  const createHarnessHere = (overrides: Record<string, unknown> = {}) =>
    createHarness(overrides, redis!.services);

  test('one tenant follows the budget exactly over simulated hours, each refused job parked and woken once; another goes through unparked', async () => {
    h = await createHarnessHere();
    const harness = h;
    const a = randomUUID();
    const b = randomUUID();
    harness.startWorker('graph', { concurrency: 16 });
    harness.startScheduler('graph');
    for (let i = 0; i < 150; i++) await harness.producer.submitGraphAttestation(graphInput(a, `a-${i}`));
    for (let i = 0; i < 5; i++) await harness.producer.submitGraphAttestation(graphInput(b, `b-${i}`));

    const count = async (tenant: string) =>
      (await harness.receipts()).filter((r) => r.tenantId === tenant).length;
    await settled(harness);
    await waitFor(async () => (await count(b)) === 5, 10_000, "tenant B's receipts");
    // burst cap: floor(200 x 10 min / 1 h) = 33; the rest wait parked in Postgres, not in Redis
    expect(await count(a)).toBe(33);
    await waitFor(async () => (await harness.parked(a)) === 117, 10_000, '117 parked jobs');
    expect(await harness.queues.graph.getDelayedCount()).toBe(0);
    const bJobs = (await harness.queues.graph.getCompleted()).filter((j) => j.data.input.tenantId === b);
    expect(bJobs.every((j) => j.data.wakes === undefined && j.returnvalue.status === 'created')).toBe(true);
    // the lane sleeps until the first unit leaves the burst window: no release meanwhile
    const [lane] = await harness.runtime.lanes.list('graph');
    expect(lane?.tenantId).toBe(a);
    expect(lane!.nextCheckAt).toBeGreaterThanOrEqual(harness.clock() + 10 * 60_000 - 60_000);

    // Simulated time: advance the budget clock; the scheduler releases what frees.
    const expected: [number, number][] = [
      [10, 66], // second burst window
      [20, 99],
      [30, 100], // the hourly cap binds
      [50, 100],
      [61, 133], // the first 33 units left the hour
      [71, 150],
    ];
    let now = 0;
    for (const [minute, total] of expected) {
      harness.advance((minute - now) * 60_000);
      now = minute;
      await waitFor(async () => (await count(a)) >= total, 10_000, `${total} receipts at minute ${minute}`);
      await settled(harness);
      expect(await count(a)).toBe(total);
    }
    expect(await harness.treeSize()).toBe(155);
    expect(await harness.parked(a)).toBe(0);
    // waiting for budget spent no attempt, and every parked job was woken exactly once
    const done = (await harness.queues.graph.getCompleted(0, 400)).filter(
      (j) => j.returnvalue.status !== 'parked',
    );
    expect(done).toHaveLength(155);
    expect(done.every((j) => j.attemptsMade === 1)).toBe(true);
    expect(done.filter((j) => j.data.wakes === 1)).toHaveLength(117);
    expect(done.every((j) => (j.data.wakes ?? 0) <= 1)).toBe(true);
  });

  test('Rekor 503 twice, then OK: created after backoff, one entry', async () => {
    h = await createHarnessHere();
    // run 1: the POST; run 2: the look-up of the stored envelope, then the POST; run 3 succeeds
    h.rekor.faults.set({ mode: '503', count: 3 });
    h.startWorker('graph');
    const r = await h.producer.submitGraphAttestation(graphInput(randomUUID(), 's'));
    await waitFor(
      async () => (await h!.queues.graph.getJobState(r.jobId)) === 'completed',
      10_000,
      'completion',
    );
    expect(await h.receipts()).toHaveLength(1);
    const job = await h.queues.graph.getJob(r.jobId);
    // two failed runs, then the one that succeeded
    expect(job?.attemptsMade).toBe(3);
    expect(job?.returnvalue).toMatchObject({ status: 'created' });
    expect(await h.treeSize()).toBe(1);
  });

  test('429 with Retry-After pauses the queue, then the entry is created without spending an attempt', async () => {
    h = await createHarnessHere();
    h.rekor.faults.set({ mode: '429', count: 1, retryAfterSeconds: 1 });
    h.startWorker('graph');
    const started = Date.now();
    const r = await h.producer.submitGraphAttestation(graphInput(randomUUID(), 's'));
    await waitFor(async () => (await h!.receipts()).length === 1, 10_000, 'the receipt');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await waitFor(
      async () => (await h!.queues.graph.getJobState(r.jobId)) === 'completed',
      10_000,
      'completion',
    );
    const job = await h.queues.graph.getJob(r.jobId);
    // only the run that succeeded counts
    expect(job?.attemptsMade).toBe(1);
    expect(await h.treeSize()).toBe(1);
    const text = await h.runtime.registry.metrics();
    expect(text).toMatch(/^attestor_rekor_submission_errors_total\{tier="graph",reason="rate_limited"\} 1$/m);
    expect(text).toMatch(
      /^attestor_rekor_submissions_rejected_total\{tier="graph",reason="rate_limited"\} 1$/m,
    );
  });

  test('Rekor rejects (400): kept as rejected with the reason and envelope; nothing is logged or failed', async () => {
    h = await createHarnessHere();
    const other = await import('@rekor-budget/rekor').then((m) =>
      m.createSigner(
        generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
          .privateKey.export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      ),
    );
    // advertises one key, signs with another: Rekor's signature check fails
    const mismatched = { ...h.signer, sign: (d: Buffer) => other.sign(d) };
    h.startWorker('graph', { signer: mismatched });
    const input = graphInput(randomUUID(), 's');
    const r = await h.producer.submitGraphAttestation(input);
    await waitFor(
      async () => (await h!.queues.graph.getJobState(r.jobId)) === 'completed',
      10_000,
      'the job to complete',
    );
    const job = await h.queues.graph.getJob(r.jobId);
    expect(job?.returnvalue).toMatchObject({ status: 'rejected', reason: 'rejected' });
    expect(job?.attemptsMade).toBe(1);
    const [kept, ...more] = await h.rejected();
    expect(more).toEqual([]);
    expect(kept).toMatchObject({ contentDigest: r.contentDigest, reason: 'rejected', httpStatus: 400 });
    expect(kept!.message).toMatch(/HTTP 400/);
    expect(kept!.envelope?.payloadDigest).toMatch(/^sha256:/);
    expect(await h.queues.graph.getFailedCount()).toBe(0);
    expect(await h.receipts()).toHaveLength(0);
    expect(await h.treeSize()).toBe(0);
    // the producer says so when the same content comes again, rather than `duplicate`
    expect((await h.producer.submitGraphAttestation(input)).status).toBe('rejected');
  });

  test('Rekor down: every submission lands in the offline queue; back up: drained, each logged once', async () => {
    h = await createHarnessHere();
    h.rekor.faults.set({ mode: 'offline' });
    h.startWorker('graph');
    const tenant = randomUUID();
    const ids = [];
    for (let i = 0; i < 10; i++)
      ids.push((await h.producer.submitGraphAttestation(graphInput(tenant, `o-${i}`))).contentDigest);
    await waitFor(async () => (await h!.offlineRows()).length === 10, 20_000, 'ten offline rows');
    await settled(h);
    expect((await h.offlineRows()).every((r) => r.reason === 'rekor_unreachable')).toBe(true);
    expect(await h.receipts()).toHaveLength(0);

    h.rekor.faults.clear();
    const report = await h.drainer().drainOnce();
    expect(report).toMatchObject({ rekorUp: true, moved: { graph: 10, edge: 0 } });
    await waitFor(async () => (await h!.receipts()).length === 10, 20_000, 'ten receipts');
    expect((await h.receipts()).map((r) => r.contentDigest).sort()).toEqual([...ids].sort());
    expect(await h.offlineRows()).toHaveLength(0);
    expect(await h.treeSize()).toBe(10);
  });

  test('a tiny maxQueueSize: the excess waits in Postgres and is drained back; none lost', async () => {
    h = await createHarnessHere({ offline: { maxQueueSize: 4, probeInterval: '00:00:01' } });
    const tenant = randomUUID();
    const results = [];
    for (let i = 0; i < 20; i++)
      results.push(await h.producer.submitGraphAttestation(graphInput(tenant, `m-${i}`)));
    expect(results.filter((r) => r.status === 'queued')).toHaveLength(4);
    expect(results.filter((r) => r.status === 'overflowed')).toHaveLength(16);
    h.startWorker('graph');
    const drainer = h.drainer();
    await waitFor(
      async () => {
        await drainer.drainOnce();
        return (await h!.receipts()).length === 20;
      },
      30_000,
      'twenty receipts',
    );
    expect(await h.offlineRows()).toHaveLength(0);
    expect(new Set((await h.receipts()).map((r) => r.contentDigest)).size).toBe(20);
    expect(await h.treeSize()).toBe(20);
  });

  test('the same content twice is one job and one entry; once logged, again a duplicate', async () => {
    h = await createHarnessHere();
    const tenant = randomUUID();
    const input = graphInput(tenant, 'dup');
    const first = await h.producer.submitGraphAttestation(input);
    const second = await h.producer.submitGraphAttestation(input);
    expect(first.status).toBe('queued');
    expect(second).toMatchObject({ status: 'duplicate', jobId: first.jobId });
    h.startWorker('graph');
    await waitFor(async () => (await h!.receipts()).length === 1, 10_000, 'the receipt');
    await waitFor(
      async () => (await h!.queues.graph.getJobState(first.jobId)) === 'completed',
      10_000,
      'completion',
    );
    expect((await h.producer.submitGraphAttestation(input)).status).toBe('duplicate');
    await settled(h);
    expect(await h.receipts()).toHaveLength(1);
    expect(await h.treeSize()).toBe(1);
  });

  test('both tiers: a graph attestation and an edge bundle of one tenant, each logged once', async () => {
    h = await createHarnessHere();
    const tenant = randomUUID();
    h.startWorker('graph');
    h.startWorker('edge');
    const g = await h.producer.submitGraphAttestation(graphInput(tenant, 'tiers'));
    const e = await h.producer.submitEdgeBundle(edgeInput(tenant, 'tiers'));
    expect([g.status, e.status]).toEqual(['queued', 'queued']);
    await waitFor(async () => (await h!.receipts()).length === 2, 10_000, 'two receipts');
    expect((await h.receipts()).map((r) => r.tier).sort()).toEqual(['edge', 'graph']);
    expect(await h.treeSize()).toBe(2);
    const redis = h.redis;
    if (redis.isCluster) {
      // in a cluster the two tier queues hash to slots of their own
      const keys = h.runtime.keys;
      const slot = (tier: 'graph' | 'edge') =>
        (redis as Cluster).cluster('KEYSLOT', `${keys.queuePrefix(tier)}:${keys.queueName(tier)}:wait`);
      expect(await slot('graph')).not.toBe(await slot('edge'));
    }
  });
});

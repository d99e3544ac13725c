import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { SubmitResult } from '@rekor-budget/producer';
import { http, startPrivateSentinel, type PrivateSentinel } from '@rekor-budget/testing';
import { createHarness, graphInput, waitFor, type Harness } from './harness';

/**
 * Redis Sentinel failover in the middle of a run: the master is SIGKILLed
 * while the producer submits and two tier workers log, the sentinel promotes
 * the replica (down after 1 s), and everything goes on against the new master.
 *
 * What Redis guarantees, and what the product adds on top:
 * - The master runs with AOF and `appendfsync always`, but replication to the
 *   replica is asynchronous: a write the master acknowledged in the instant
 *   before it died may never reach the replica, and the replica is what
 *   survives. No `WAIT` is issued by the product.
 * - Nothing is logged twice regardless: the one envelope of each content, the
 *   receipts and the look-up before a resend live in Postgres, so a job that
 *   runs again after the failover (its completion lost with the old master)
 *   finds its receipt or its entry instead of posting again.
 * - Budget units are Redis state, so they can be lost the same way. The bound,
 *   asserted below: a tenant's admissions in a window never exceed the
 *   window's cap plus the units of that tenant the old master acknowledged
 *   and the promoted replica never received. A tenant's units of a tier are
 *   one sorted set (member -> ms spent; the pair is the unit's id), so the
 *   loss is counted unit by unit: a copy of the dead master started from its
 *   AOF holds every unit it acknowledged, and those missing on the promoted
 *   master are lost (or refunded since, which only loosens the bound). Each
 *   decision on the promoted master counts its units and the live holds of
 *   released jobs, so they never exceed the cap there. On loopback the loss
 *   is zero or one unit.
 * - What the budget refuses is parked in Postgres and released by the tier's
 *   release loop (which every worker process runs) as units free.
 */
jest.setTimeout(120_000);

const TENANTS = 12;
const PER_TENANT = 24; // under the burst cap of 33: these tenants are never refused
const OVER_BUDGET = 45; // one tenant beyond the burst cap, admitted across the kill
const BURST_CAP = 33; // floor(200 x 10 min / 1 h)
const BURST_MS = 10 * 60_000;

let sentinel: PrivateSentinel | undefined;
let h: Harness | undefined;
afterAll(async () => {
  await h?.close();
  await sentinel?.destroy();
});

/** The payload hash of every entry rekor-local holds, by log index. */
async function loggedPayloads(harness: Harness): Promise<string[]> {
  const size = await harness.treeSize();
  const hashes: string[] = [];
  for (let i = 0; i < size; i++) {
    const res = await http(`${harness.rekor.url}/api/v1/log/entries?logIndex=${i}`);
    expect(res.status).toBe(200);
    const [entry] = Object.values(JSON.parse(res.body) as Record<string, { body: string }>);
    const body = JSON.parse(Buffer.from(entry!.body, 'base64').toString()) as {
      spec: { payloadHash: { value: string } };
    };
    hashes.push(body.spec.payloadHash.value);
  }
  return hashes;
}

test('the master killed mid-run: every accepted submission gets one receipt, each content is logged once, budgets hold within the lost writes', async () => {
  sentinel = await startPrivateSentinel();
  const s = sentinel;
  h = await createHarness({}, { topology: { sentinel: { name: s.name, nodes: s.sentinels } } });
  const harness = h;
  // each POST takes a little while, so the run is still going when the master dies
  harness.rekor.faults.set({ mode: 'slow', delayMs: 15 });
  harness.startWorker('graph', { concurrency: 8, lockDurationMs: 2_000 });
  harness.startWorker('graph', { concurrency: 8, lockDurationMs: 2_000 });
  harness.startScheduler('graph');

  const tenants = Array.from({ length: TENANTS }, () => randomUUID());
  const hot = randomUUID();
  const inputs = [
    ...Array.from({ length: TENANTS * PER_TENANT }, (_, i) => graphInput(tenants[i % TENANTS]!, `f-${i}`)),
    ...Array.from({ length: OVER_BUDGET }, (_, i) => graphInput(hot, `hot-${i}`)),
  ].sort(() => Math.random() - 0.5);
  const results: SubmitResult[] = [];
  const submit = async (from: number, to: number) => {
    for (const input of inputs.slice(from, to))
      results.push(await harness.producer.submitGraphAttestation(input));
  };

  // the first half before the kill, the second while the sentinel fails over
  const half = Math.floor(inputs.length / 2);
  await submit(0, half);
  await waitFor(async () => (await harness.receipts()).length >= 60, 60_000, '60 receipts before the kill');
  await Promise.all([s.failover(), submit(half, inputs.length)]);
  expect(results.every((r) => r.status === 'queued' || r.status === 'overflowed')).toBe(true);
  const accepted = new Set(results.map((r) => r.contentDigest));
  expect(accepted.size).toBe(inputs.length);

  // what the failover was allowed to cost the hot tenant's budget: units the
  // dead master acknowledged (its AOF) that the promoted replica never saw
  const drainer = harness.drainer();
  const receiptsOf = async (tenant: string) =>
    (await harness.receipts()).filter((r) => r.tenantId === tenant).length;
  await waitFor(
    async () => {
      await drainer.drainOnce();
      return (await harness.receipts()).length >= accepted.size - (OVER_BUDGET - BURST_CAP);
    },
    90_000,
    'a receipt for every submission within budget',
  );
  await waitFor(
    async () => {
      const c = await harness.queues.graph.getJobCounts('waiting', 'active', 'prioritized');
      return (c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) === 0;
    },
    30_000,
    'the queue to settle',
  );
  const former = await s.formerMaster();
  const formerRedis = new Redis(former.url);
  try {
    // the hot tenant's units, by id (`<member>.<ms spent>`)
    const unitsOn = async (redis: Pick<Redis, 'zrange'>) => {
      const r = await redis.zrange(harness.runtime.keys.budgetUnits(hot, 'graph'), 0, -1, 'WITHSCORES');
      return new Set(r.flatMap((m, i) => (i % 2 === 0 ? [`${m}.${r[i + 1]}`] : [])));
    };
    const acknowledged = await unitsOn(formerRedis);
    const promoted = await unitsOn(harness.redis);
    const lostAtMost = [...acknowledged].filter((u) => !promoted.has(u)).length;
    // every unit of the run is inside one burst window (the clock has not moved):
    // the promoted master's decisions kept its units within the cap
    expect(promoted.size).toBeLessThanOrEqual(BURST_CAP);
    const hotLogged = await receiptsOf(hot);
    // the bound: the cap, plus what asynchronous replication may have lost (0 when nothing)
    expect(hotLogged).toBeLessThanOrEqual(BURST_CAP + lostAtMost);
    expect(hotLogged).toBeGreaterThanOrEqual(Math.min(BURST_CAP, OVER_BUDGET));
    for (const t of tenants) expect(await receiptsOf(t)).toBe(PER_TENANT);
  } finally {
    await formerRedis.quit();
    await former.stop();
  }

  // the refused rest of the hot tenant waits parked; once its first units leave
  // the burst window, the release loop wakes it
  harness.advance(BURST_MS);
  await waitFor(
    async () => {
      await drainer.drainOnce();
      return (await harness.receipts()).length >= accepted.size;
    },
    60_000,
    'a receipt for every accepted submission',
  );

  const receipts = await harness.receipts();
  expect(receipts).toHaveLength(accepted.size);
  expect(new Set(receipts.map((r) => r.contentDigest))).toEqual(accepted);
  expect(new Set(receipts.map((r) => r.logIndex)).size).toBe(accepted.size);
  // rekor-local holds each content once: one entry per payload, as many as contents
  const payloads = await loggedPayloads(harness);
  expect(payloads).toHaveLength(accepted.size);
  expect(new Set(payloads).size).toBe(accepted.size);
  expect(await harness.queues.graph.getFailedCount()).toBe(0);
  expect(await harness.offlineRows()).toEqual([]);
  expect(await harness.parked(hot)).toBe(0);
});

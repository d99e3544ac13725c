import { randomUUID } from 'node:crypto';
import { createRekorProducer, type RekorProducer } from '@rekor-budget/producer';
import { createHarness, graphInput, waitFor, type Harness } from './harness';

/**
 * The release loop under the faults that used to lose parked work: a content
 * parked, released and parked again, a release whose row delete failed, and
 * a producer that meets Postgres away while the tenant has parked work. Each
 * ends with every accepted content logged exactly once.
 */
jest.setTimeout(120_000);

/** Past the burst window (10 min) and the life of a hold (10 min). */
const WINDOW_PASSES = 10 * 60_000 + 1_000;

let h: Harness | undefined;
const producers: RekorProducer[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const p of producers.splice(0)) await p.close();
  await h?.close();
  h = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A producer on the harness that holds budget units for what it queues and parks the rest. */
function budgetedProducer(harness: Harness): RekorProducer {
  const p = createRekorProducer({
    config: harness.config,
    redis: harness.redis,
    db: harness.runtime.db,
    budget: harness.runtime.budget,
    clock: harness.clock,
  });
  producers.push(p);
  return p;
}

/** Spends the tenant's free units until the budget refuses. */
async function spendAll(harness: Harness, tenantId: string): Promise<void> {
  while ((await harness.runtime.budget.tryConsume(tenantId, 'graph')).admitted);
}

async function expectLoggedOnce(harness: Harness, contents: string[]): Promise<void> {
  await waitFor(
    async () => (await harness.receipts()).length === contents.length,
    60_000,
    `${contents.length} receipts`,
  );
  const receipts = await harness.receipts();
  expect(receipts.map((r) => r.contentDigest).sort()).toEqual([...contents].sort());
  expect(await harness.treeSize()).toBe(contents.length);
  expect(await harness.queues.graph.getFailedCount()).toBe(0);
}

test('a released job that waited offline and was parked again is released again and logged', async () => {
  h = await createHarness();
  const harness = h;
  const a = randomUUID();
  await spendAll(harness, a);
  const [r] = await budgetedProducer(harness).submitMany([{ tier: 'graph', input: graphInput(a, 'x') }]);
  expect(r).toMatchObject({ status: 'queued', parked: true });

  // Rekor is away when the unit frees: the released job waits in the offline queue
  await harness.redis.set(harness.runtime.keys.rekorState, 'offline');
  harness.startScheduler('graph');
  harness.startWorker('graph');
  harness.advance(WINDOW_PASSES);
  await waitFor(async () => (await harness.offlineRows()).length === 1, 20_000, 'the job offline');

  // the budget is spent again before the drain moves it back: the worker parks it once more
  await spendAll(harness, a);
  await harness.drainer().drainOnce();
  await waitFor(async () => (await harness.parked(a)) === 1, 20_000, 'the job parked again');

  // its second release must not meet the first release's finished job
  harness.advance(WINDOW_PASSES);
  await expectLoggedOnce(harness, [r!.contentDigest]);
  expect(await harness.parked(a)).toBe(0);
});

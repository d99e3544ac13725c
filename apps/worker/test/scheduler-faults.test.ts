import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startPrivatePostgres, type PrivatePostgres } from '@rekor-budget/testing';
import { Scheduler } from '@rekor-budget/worker';
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
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Spends the tenant's free units until the budget refuses. */
async function spendAll(harness: Harness, tenantId: string): Promise<void> {
  while ((await harness.runtime.budget.tryConsume(tenantId, 'graph')).admitted);
}

/** Runs SQL on the harness database outside the product's code (to make Postgres refuse a delete). */
async function psql(harness: Harness, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: harness.config.database.url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
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
  const [r] = await harness.budgetedProducer().submitMany([{ tier: 'graph', input: graphInput(a, 'x') }]);
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

test('a release whose row delete failed, and whose job was refused again: the content stays parked and is logged', async () => {
  h = await createHarness();
  const harness = h;
  const a = randomUUID();
  await spendAll(harness, a);
  const [r] = await harness.budgetedProducer().submitMany([{ tier: 'graph', input: graphInput(a, 'y') }]);
  expect(r).toMatchObject({ status: 'queued', parked: true });

  // Postgres fails the release's delete, as when it stops between the add and the delete
  await psql(
    harness,
    `CREATE FUNCTION attestor.refuse_delete() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'delete refused'; END $$;
     CREATE TRIGGER refuse_delete BEFORE DELETE ON attestor.rekor_parked
       FOR EACH ROW EXECUTE FUNCTION attestor.refuse_delete();`,
  );
  const first = harness.startScheduler('graph');
  harness.advance(WINDOW_PASSES);
  await waitFor(async () => (await harness.queues.graph.getWaitingCount()) === 1, 20_000, 'the release');
  await first.stop();
  expect(await harness.parked(a)).toBe(1);
  await psql(harness, 'DROP TRIGGER refuse_delete ON attestor.rekor_parked');

  // the job's hold lapses and the budget is spent before a worker runs it: refused, it parks again
  harness.advance(WINDOW_PASSES);
  await spendAll(harness, a);
  harness.startWorker('graph');
  await waitFor(async () => (await harness.queues.graph.getCompletedCount()) === 1, 20_000, 'the run');
  const [run] = await harness.queues.graph.getCompleted();
  expect(run!.returnvalue).toMatchObject({ status: 'parked' });
  expect(await harness.parked(a)).toBe(1);

  // the next leader finds the row: it is the parked job's, not the finished release's
  harness.startScheduler('graph');
  harness.advance(WINDOW_PASSES);
  await expectLoggedOnce(harness, [r!.contentDigest]);
  expect(await harness.parked(a)).toBe(0);
});

test('Postgres away while the tenant has parked work: the producer queues the submissions, and all are logged', async () => {
  const db: PrivatePostgres = await startPrivatePostgres();
  cleanups.push(() => db.destroy());
  h = await createHarness({}, { databaseUrl: db.url });
  const harness = h;
  const a = randomUUID();
  await spendAll(harness, a);
  const producer = harness.budgetedProducer();
  const parked = await producer.submitMany([{ tier: 'graph', input: graphInput(a, 'parked') }]);
  expect(parked[0]).toMatchObject({ status: 'queued', parked: true });

  await db.stop();
  const during = await producer.submitMany(
    Array.from({ length: 3 }, (_, i) => ({ tier: 'graph' as const, input: graphInput(a, `during-${i}`) })),
  );
  expect(during.map((r) => r.status)).toEqual(['queued', 'queued', 'queued']);
  expect(await harness.queues.graph.getWaitingCount()).toBe(3);

  await db.start();
  harness.startScheduler('graph');
  harness.startWorker('graph');
  harness.advance(WINDOW_PASSES);
  await expectLoggedOnce(
    harness,
    [...parked, ...during].map((r) => r.contentDigest),
  );
});

test('lanes Redis lost are rebuilt from Postgres on the first round Postgres answers, not a rebuild period later', async () => {
  const db: PrivatePostgres = await startPrivatePostgres();
  cleanups.push(() => db.destroy());
  h = await createHarness({}, { databaseUrl: db.url });
  const harness = h;
  const a = randomUUID();
  await spendAll(harness, a);
  await harness.budgetedProducer().submitMany([{ tier: 'graph', input: graphInput(a, 'lane') }]);
  // a Redis that lost the lanes (and tallies) of the tier
  const { keys } = harness.runtime;
  await harness.redis.del(keys.schedulerLanes('graph'), keys.schedulerTally('graph'));

  const scheduler = new Scheduler({ runtime: harness.runtime, tier: 'graph' });
  await db.stop();
  await expect(scheduler.round()).rejects.toThrow();
  await db.start();
  await scheduler.round();
  expect((await harness.runtime.lanes.list('graph')).map((l) => l.tenantId)).toEqual([a]);
});

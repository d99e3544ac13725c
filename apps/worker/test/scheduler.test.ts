import { randomUUID } from 'node:crypto';
import { contentDigest, validateGraphInput, type Submission } from '@rekor-budget/core';
import { createRekorProducer, type RekorProducer } from '@rekor-budget/producer';
import { createEnvelopeStore } from '@rekor-budget/queue';
import { buildStatement, receiptFromOutcome, signEnvelope } from '@rekor-budget/rekor';
import type { RoundReport } from '@rekor-budget/worker';
import { createHarness, graphInput, waitFor, type Harness } from './harness';

jest.setTimeout(120_000);

let h: Harness | undefined;
const producers: RekorProducer[] = [];
afterEach(async () => {
  for (const p of producers.splice(0)) await p.close();
  await h?.close();
  h = undefined;
});

/** Records the scheduler's rounds; `after(n)` resolves once n more rounds ran. */
function roundLog() {
  const reports: RoundReport[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  return {
    reports,
    onRound(r: RoundReport) {
      reports.push(r);
      for (const w of waiters.splice(0)) {
        if (reports.length >= w.count) w.resolve();
        else waiters.push(w);
      }
    },
    after(n: number): Promise<void> {
      const count = reports.length + n;
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    released(tenantId?: string): number {
      return reports.reduce(
        (a, r) =>
          a +
          (tenantId ? (r.released.get(tenantId) ?? 0) : [...r.released.values()].reduce((x, y) => x + y, 0)),
        0,
      );
    },
  };
}

const graphJobs = (tenantId: string, n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({
    tier: 'graph' as const,
    input: graphInput(tenantId, `${tag}-${i}`),
  }));

async function refusals(harness: Harness): Promise<number> {
  const text = await harness.runtime.registry.metrics();
  const m =
    /^attestor_rekor_submissions_rejected_total\{tier="graph",reason="budget_exceeded"\} (\d+)$/m.exec(text);
  return Number(m?.[1] ?? 0);
}

describe('tenant-fair scheduler on real Redis, Postgres and rekor-local', () => {
  test('10,000 parked jobs and a budget that frees 2 units: exactly 2 jobs wake', async () => {
    h = await createHarness();
    const harness = h;
    const a = randomUUID();
    const t0 = harness.clock();
    // earlier work filled the burst window (33 per 10 min): 2 units now, 31 a minute later
    for (let i = 0; i < 33; i++) {
      if (i === 2) harness.advance(60_000);
      expect((await harness.runtime.budget.tryConsume(a, 'graph')).admitted).toBe(true);
    }
    // one batch of 10,000: its Redis stage gets more than the 2 s a single call gets, so a
    // busy machine does not send part of it to the offline queue (which loses nothing either)
    const results = await harness
      .budgetedProducer({ redisTimeoutMs: 60_000 })
      .submitMany(graphJobs(a, 10_000, 'deep'));
    expect(results.every((r) => r.status === 'queued' && r.parked === true)).toBe(true);
    expect(await harness.parked(a)).toBe(10_000);
    // the backlog is not in Redis: no job, and a summary of a few fields
    expect(await harness.queues.graph.count()).toBe(0);
    expect(await harness.redis.hlen(harness.runtime.keys.schedulerTally('graph'))).toBeLessThanOrEqual(3);

    const rounds = roundLog();
    harness.startScheduler('graph', { onRound: (r) => rounds.onRound(r) });
    harness.startWorker('graph');
    await rounds.after(3);
    expect(rounds.released()).toBe(0);

    // ten minutes after the first two units: they leave the burst window, two units are free
    harness.advance(9 * 60_000);
    await waitFor(async () => (await harness.receipts()).length === 2, 20_000, 'two receipts');
    // a job completes just after its receipt is stored
    await waitFor(
      async () => (await harness.queues.graph.getCompletedCount()) === 2,
      20_000,
      'two completions',
    );
    await rounds.after(5);
    expect(rounds.released(a)).toBe(2);
    expect(await harness.parked(a)).toBe(9_998);
    const done = await harness.queues.graph.getCompleted();
    expect(done).toHaveLength(2);
    expect(done.every((j) => j.data.wakes === 1 && j.returnvalue.status === 'created')).toBe(true);
    // the woken jobs spent the units held for them: nobody was refused
    expect(await refusals(harness)).toBe(0);
    // the lane sleeps until the next unit leaves the window (those spent a minute later)
    const [lane] = await harness.runtime.lanes.list('graph');
    expect(lane).toMatchObject({ tenantId: a });
    expect(lane!.nextCheckAt).toBeGreaterThanOrEqual(t0 + 11 * 60_000);
    expect(lane!.nextCheckAt).toBeLessThan(harness.clock() + 60_000);
  });

  test("a unit given back wakes the tenant's parked jobs at once, not when their window frees", async () => {
    h = await createHarness();
    const harness = h;
    const a = randomUUID();
    // the first content is in the log already (an earlier POST went through unanswered):
    // its envelope is stored, no receipt, so its job looks first and finds it
    const input = validateGraphInput(graphInput(a, 'logged-before'));
    const s: Submission = { version: 1, tier: 'graph', contentDigest: contentDigest('graph', input), input };
    const envelope = signEnvelope(buildStatement(s), harness.signer);
    await createEnvelopeStore(harness.runtime.db).storeFirst(
      { tenantId: a, tier: 'graph', contentDigest: s.contentDigest },
      envelope,
    );
    expect((await harness.runtime.client.submit(envelope)).kind).toBe('created');
    // 32 of the burst window's 33 units spent: the first job holds the last one, two park
    for (let i = 0; i < 32; i++)
      expect((await harness.runtime.budget.tryConsume(a, 'graph')).admitted).toBe(true);
    const [first, ...waiting] = await harness
      .budgetedProducer()
      .submitMany([{ tier: 'graph', input: graphInput(a, 'logged-before') }, ...graphJobs(a, 2, 'waiting')]);
    expect(first).toMatchObject({ status: 'queued', contentDigest: s.contentDigest });
    expect(first!.parked).toBeUndefined();
    expect(waiting.every((r) => r.parked === true)).toBe(true);
    // the scheduler finds no unit for the lane and puts it to sleep until the window frees
    const laneAsleep = async () =>
      ((await harness.runtime.lanes.list('graph'))[0]?.nextCheckAt ?? 0) > harness.clock() + 9 * 60_000;
    harness.startScheduler('graph');
    await waitFor(laneAsleep, 10_000, 'the lane to sleep');
    harness.startWorker('graph');
    // the look-up finds the entry: the receipt is stored and the unit given back,
    // and one parked job takes it now, ten minutes before the window frees
    await waitFor(async () => (await harness.receipts()).length === 2, 30_000, 'two receipts');
    // the released job may be logged before the scheduler deletes its parked row
    await waitFor(async () => (await harness.parked(a)) === 1, 10_000, 'one job still parked');
    expect(await harness.treeSize()).toBe(2);
    // the window is full again: the last job sleeps until it frees
    await waitFor(laneAsleep, 10_000, 'the lane to sleep again');
    expect(await harness.parked(a)).toBe(1);
  });

  test('a queued job whose content another copy logged lets go of its held unit: a parked job takes it at once', async () => {
    h = await createHarness();
    const harness = h;
    const a = randomUUID();
    // 32 of the burst window's 33 units spent: the first job holds the last one, two park
    for (let i = 0; i < 32; i++)
      expect((await harness.runtime.budget.tryConsume(a, 'graph')).admitted).toBe(true);
    const [first, ...waiting] = await harness
      .budgetedProducer()
      .submitMany([
        { tier: 'graph', input: graphInput(a, 'logged-by-a-copy') },
        ...graphJobs(a, 2, 'waiting'),
      ]);
    expect(first!.parked).toBeUndefined();
    expect(waiting.every((r) => r.parked === true)).toBe(true);
    // another copy of the first content (a kit logged elsewhere) reached the log and its receipt is stored
    const input = validateGraphInput(graphInput(a, 'logged-by-a-copy'));
    const s: Submission = { version: 1, tier: 'graph', contentDigest: contentDigest('graph', input), input };
    const outcome = await harness.runtime.client.submit(signEnvelope(buildStatement(s), harness.signer));
    if (outcome.kind !== 'created') throw new Error(`rekor-local answered ${outcome.kind}`);
    expect(
      await harness.runtime.receipts.save(
        receiptFromOutcome(outcome, { tenantId: a, tier: 'graph', contentDigest: s.contentDigest }),
      ),
    ).toBe(true);
    const laneAsleep = async () =>
      ((await harness.runtime.lanes.list('graph'))[0]?.nextCheckAt ?? 0) > harness.clock() + 9 * 60_000;
    harness.startScheduler('graph');
    await waitFor(laneAsleep, 10_000, 'the lane to sleep');
    harness.startWorker('graph');
    // the first job ends already_logged without spending its hold; one parked job takes the unit now
    await waitFor(
      async () => (await harness.queues.graph.getCompleted()).length === 2,
      30_000,
      'two jobs completed',
    );
    expect(await harness.receipts()).toHaveLength(2);
    const done = await harness.queues.graph.getCompleted();
    expect(done.map((j) => j.returnvalue.status).sort()).toEqual(['already_logged', 'created']);
    // the released job may be logged before the scheduler deletes its parked row
    await waitFor(async () => (await harness.parked(a)) === 1, 10_000, 'one job still parked');
    expect(await harness.redis.zcard(harness.runtime.keys.budgetHolds(a, 'graph'))).toBe(0);
    expect(await harness.treeSize()).toBe(2);
  });

  test('an idle leader waits on the signal: a unit given back while it waits is released at once, not after pollMs', async () => {
    h = await createHarness();
    const harness = h;
    const a = randomUUID();
    const spent: string[] = [];
    for (let i = 0; i < 33; i++) {
      const d = await harness.runtime.budget.tryConsume(a, 'graph');
      if (d.admitted) spent.push(d.unitId);
    }
    expect(spent).toHaveLength(33);
    const [parked] = await harness.budgetedProducer().submitMany(graphJobs(a, 1, 'idle'));
    expect(parked!.parked).toBe(true);
    // a leader whose timer alone would look again only after 20 s
    const rounds = roundLog();
    harness.startScheduler('graph', { pollMs: 20_000, leaseMs: 60_000, onRound: (r) => rounds.onRound(r) });
    await waitFor(
      async () =>
        ((await harness.runtime.lanes.list('graph'))[0]?.nextCheckAt ?? 0) > harness.clock() + 9 * 60_000,
      10_000,
      'the lane to sleep until the window frees',
    );
    // a unit comes back, as a worker gives back one that never reached Rekor
    const started = Date.now();
    expect(await harness.runtime.budget.refund(a, 'graph', spent[32]!)).toBe(true);
    await harness.runtime.lanes.wake('graph', a, harness.clock());
    await waitFor(async () => rounds.released(a) === 1, 30_000, 'the parked job released');
    // the signal, not the 20 s timer, started the round that released it
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await harness.parked(a)).toBe(0);
    expect(await harness.queues.graph.count()).toBe(1);
  });

  test("a fresh tenant's job is admitted within one scheduling round while another tenant's backlog wakes", async () => {
    // 100 per 10 minutes, 600 an hour
    h = await createHarness({ budget: { hourlyLimit: 600, burstLimit: 600, burstWindow: '00:10:00' } });
    const harness = h;
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    for (const t of [a, b]) {
      for (let i = 0; i < 100; i++)
        expect((await harness.runtime.budget.tryConsume(t, 'graph')).admitted).toBe(true);
    }
    const producer = harness.budgetedProducer();
    await producer.submitMany(graphJobs(a, 2_000, 'backlog'));
    const [bJob] = await producer.submitMany(graphJobs(b, 1, 'b'));
    expect(bJob).toMatchObject({ status: 'queued', parked: true });

    const rounds = roundLog();
    harness.startScheduler('graph', { onRound: (r) => rounds.onRound(r), quantum: 64 });
    harness.startWorker('graph', { concurrency: 16 });
    await rounds.after(2);
    expect(rounds.released()).toBe(0);

    harness.advance(10 * 60_000);
    await waitFor(async () => rounds.released() > 0, 20_000, 'the first release');
    // the round that woke A's backlog served B's lane too, at A's quantum
    const first = rounds.reports.find((r) => r.released.size > 0)!;
    expect(first.released.get(b)).toBe(1);
    expect(first.released.get(a)).toBe(64);

    // a tenant with no backlog goes straight to the queue and is logged while A's backlog waits
    const [cJob] = await producer.submitMany(graphJobs(c, 1, 'c'));
    expect(cJob).toMatchObject({ status: 'queued' });
    expect(cJob!.parked).toBeUndefined();
    const logged = async (t: string) => (await harness.receipts()).some((r) => r.tenantId === t);
    await waitFor(async () => (await logged(b)) && (await logged(c)), 30_000, "B's and C's receipts");
    expect(await harness.parked(a)).toBeGreaterThan(1_800);
  });

  test('a host clock 5 s ahead of Redis causes no extra refusals: each waiting job is parked once and woken once', async () => {
    jest.useFakeTimers({
      now: Date.now() + 5_000,
      advanceTimers: true,
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'requestAnimationFrame',
        'cancelAnimationFrame',
        'requestIdleCallback',
        'cancelIdleCallback',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
    try {
      // 3 per 5 s (burst 2,160/h over 5 s), on the Redis clock: no clock injected anywhere
      h = await createHarness(
        { budget: { hourlyLimit: 100, burstLimit: 2160, burstWindow: '00:00:05' } },
        { redisTime: true },
      );
      const harness = h;
      const [sec] = await harness.redis.time();
      expect(Date.now() - Number(sec) * 1000).toBeGreaterThan(3_000);
      expect(Math.abs(harness.runtime.clock() - Number(sec) * 1000)).toBeLessThan(1_500);

      const a = randomUUID();
      const producer = createRekorProducer({
        config: harness.config,
        redis: harness.redis,
        db: harness.runtime.db,
        budget: harness.runtime.budget,
      });
      producers.push(producer);
      const results = await producer.submitMany(graphJobs(a, 9, 'skew'));
      expect(results.filter((r) => r.parked)).toHaveLength(6);
      harness.startScheduler('graph');
      harness.startWorker('graph');
      await waitFor(async () => (await harness.receipts()).length === 9, 60_000, 'nine receipts');
      // a job completes just after its receipt is stored
      await waitFor(
        async () => (await harness.queues.graph.getCompletedCount()) === 9,
        30_000,
        'nine completions',
      );

      expect(await refusals(harness)).toBe(0);
      const done = await harness.queues.graph.getCompleted(0, 100);
      expect(done).toHaveLength(9);
      expect(done.filter((j) => j.data.wakes === 1)).toHaveLength(6);
      expect(done.every((j) => (j.data.wakes ?? 0) <= 1 && j.attemptsMade === 1)).toBe(true);
      // and never more than 3 units in any 5 s, on the Redis clock
      const units = (
        await harness.redis.zrange(harness.runtime.keys.budgetUnits(a, 'graph'), 0, -1, 'WITHSCORES')
      )
        .filter((_, i) => i % 2 === 1)
        .map(Number)
        .sort((x, y) => x - y);
      expect(units).toHaveLength(9);
      for (let i = 3; i < units.length; i++) expect(units[i]! - units[i - 3]!).toBeGreaterThanOrEqual(5_000);
    } finally {
      jest.useRealTimers();
    }
  });
});

import { Redis } from 'ioredis';
import {
  createTestDatabase,
  createTestRedis,
  startPrivateRedis,
  waitFor,
  deleteKeys,
  redisUrl,
  uniquePrefix,
  type TestDatabase,
} from '@rekor-budget/testing';
import {
  createRekorProducer,
  ProducerError,
  type RekorProducer,
  type SubmitRequest,
  type SubmitResult,
} from '@rekor-budget/producer';
import { createLanes, createReceiptStore, createTierQueues, OfflineQueue } from '@rekor-budget/queue';
import { createDb } from '@rekor-budget/db';
import {
  contentDigest,
  createRedisKeys,
  InputError,
  validateGraphInput,
  type RekorConfig,
} from '@rekor-budget/core';
import { createBudget } from '@rekor-budget/budget';
import { sql } from 'kysely';
import { edgeInput, graphInput, tenant, testConfig } from './fixtures';

let t: TestDatabase;
let redis: Redis;
const prefixes: string[] = [];
const producers: RekorProducer[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  redis = createTestRedis();
});
afterEach(async () => {
  await Promise.all(producers.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  for (const p of prefixes) await deleteKeys(redis, p);
  await redis.quit();
  await t.drop();
});

function setup(rekor: Record<string, unknown> = {}, opts: { db?: boolean; redis?: Redis } = {}) {
  const prefix = uniquePrefix('prod');
  prefixes.push(prefix);
  const config: RekorConfig = testConfig({ redis: { url: redisUrl(), keyPrefix: prefix }, ...rekor });
  const producer = createRekorProducer({
    config,
    redis: opts.redis ?? redis,
    ...(opts.db === false ? {} : { db: t.db }),
  });
  producers.push(producer);
  const keys = createRedisKeys(prefix);
  return { producer, config, keys };
}

/** A producer with a budget of `limits` (hourly, burst), its own key prefix, and `clock` if given. */
function budgetedSetup(
  label: string,
  limits: { hourlyLimit: number; burstLimit: number; burstWindow: string },
  clock?: () => number,
  rekor: Record<string, unknown> = {},
) {
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  const config: RekorConfig = testConfig({
    redis: { url: redisUrl(), keyPrefix: prefix },
    budget: limits,
    ...rekor,
  });
  const keys = createRedisKeys(prefix);
  const budget = createBudget({ redis, keys, limits: config.budget, ...(clock ? { clock } : {}) });
  const producer = createRekorProducer({ config, redis, db: t.db, budget, ...(clock ? { clock } : {}) });
  producers.push(producer);
  return { producer, keys, budget };
}

async function offlineRows(tenantId: string) {
  return (await new OfflineQueue(t.db).list()).filter((r) => r.tenant_id === tenantId);
}

async function errorOf(p: Promise<unknown>): Promise<{ code: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string };
  }
  throw new Error('resolved');
}

describe('submitGraphAttestation', () => {
  test('queues a job whose id derives from the content; the same scan again is a duplicate', async () => {
    const { producer, keys } = setup();
    const tn = tenant();
    const first = await producer.submitGraphAttestation(graphInput(tn, 's1'));
    expect(first).toMatchObject({ status: 'queued', tier: 'graph' });
    expect(first.jobId).toBe(`graph-${first.contentDigest.slice(7)}`);
    const again = await producer.submitGraphAttestation(graphInput(tn, 's1'));
    expect(again).toMatchObject({ status: 'duplicate', jobId: first.jobId });
    const other = await producer.submitGraphAttestation(graphInput(tn, 's2'));
    expect(other.status).toBe('queued');
    expect(other.jobId).not.toBe(first.jobId);

    const queues = createTierQueues({ redis, keys });
    const q = queues.get('graph');
    const job = await q.getJob(first.jobId);
    expect(job?.data).toMatchObject({
      tier: 'graph',
      contentDigest: first.contentDigest,
      input: { scanId: 's1' },
    });
    expect(await q.getWaitingCount()).toBe(2);
    await queues.close();
  });

  test('bad input is refused with a typed error and nothing is queued', async () => {
    const { producer } = setup();
    const e = await errorOf(
      producer.submitGraphAttestation({ ...graphInput(tenant(), 's'), graphDigest: 'md5:1' }),
    );
    expect(e).toBeInstanceOf(InputError);
    expect(e.code).toBe('INVALID_DIGEST');
  });

  test('an attestation over maxPayloadBytes is refused before it is queued', async () => {
    const { producer } = setup({ maxPayloadBytes: 1000 });
    const input = { ...graphInput(tenant(), 's'), metadata: { notes: 'x'.repeat(2000) } };
    expect((await errorOf(producer.submitGraphAttestation(input))).code).toBe('PAYLOAD_TOO_LARGE');
  });

  test('rekor.enabled: false refuses with REKOR_DISABLED', async () => {
    const { producer } = setup({ enabled: false });
    expect((await errorOf(producer.submitGraphAttestation(graphInput(tenant(), 's')))).code).toBe(
      'REKOR_DISABLED',
    );
  });

  test('content already in the log (a receipt exists) is a duplicate', async () => {
    const { producer } = setup();
    const tn = tenant();
    const first = await producer.submitGraphAttestation(graphInput(tn, 'logged'));
    await createReceiptStore(t.db).save({
      tenantId: tn,
      tier: 'graph',
      contentDigest: first.contentDigest,
      uuid: 'u',
      logIndex: 1,
      integratedTime: new Date(),
      logId: 'l',
      logUrl: 'http://rekor',
      bundle: {},
    });
    const { producer: fresh } = setup();
    expect((await fresh.submitGraphAttestation(graphInput(tn, 'logged'))).status).toBe('duplicate');
  });
});

describe('estimatedSubmitAt', () => {
  test('with a budget: counts the jobs of the tenant queued or parked ahead against every window', async () => {
    const now = Date.UTC(2025, 11, 20, 10, 0, 0);
    // 2 per hour, 2 per 10 minutes
    const { producer } = budgetedSetup(
      'est',
      { hourlyLimit: 2, burstLimit: 12, burstWindow: '00:10:00' },
      () => now,
    );
    const tn = tenant();
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await producer.submitGraphAttestation(graphInput(tn, `e${i}`)));
    const H = 3_600_000;
    expect(results.map((r) => r.estimatedSubmitAt?.getTime())).toEqual([
      now,
      now,
      now + H,
      now + H,
      now + 2 * H,
    ]);
    // two fit the budget and wait in the queue; the others park behind them
    expect(results.map((r) => [r.status, r.parked ?? false])).toEqual([
      ['queued', false],
      ['queued', false],
      ['queued', true],
      ['queued', true],
      ['queued', true],
    ]);
    // a batch continues the count
    const batch = await producer.submitMany([
      { tier: 'graph', input: graphInput(tn, 'e5') },
      { tier: 'graph', input: graphInput(tn, 'e0') },
    ]);
    expect(batch.map((r) => r.status)).toEqual(['queued', 'duplicate']);
    expect(batch[0]!.estimatedSubmitAt?.getTime()).toBe(now + 2 * H);
  });
});

describe('units held for jobs that do not go to the queue', () => {
  test('are let go when the jobs overflow to Postgres: the tenant keeps its budget', async () => {
    const { producer, budget } = budgetedSetup(
      'held-overflow',
      { hourlyLimit: 3, burstLimit: 18, burstWindow: '00:10:00' },
      undefined,
      { offline: { maxQueueSize: 1 } },
    );
    const tn = tenant();
    expect((await producer.submitGraphAttestation(graphInput(tn, 'fills'))).status).toBe('queued');
    // the backlog is full: the budget held units for these, then they overflowed
    const results = await producer.submitMany(
      ['b', 'c'].map((k) => ({ tier: 'graph' as const, input: graphInput(tn, k) })),
    );
    expect(results.map((r) => r.status)).toEqual(['overflowed', 'overflowed']);
    // only the queued job holds a unit; the two others are let go (in the background,
    // the answer does not wait on it) for the tenant's next jobs
    await waitFor(async () => (await budget.peek(tn, 'graph')).held === 1, 10_000, 'the two holds let go');
    expect(await budget.peek(tn, 'graph')).toMatchObject({ held: 1, free: 2 });
  });
});

describe('a service failing between two steps', () => {
  test('Redis refuses the lane mark after the rows are parked: answered parked, not an error; the rows wait in Postgres', async () => {
    const { producer, keys } = budgetedSetup('mark', {
      hourlyLimit: 1,
      burstLimit: 6,
      burstWindow: '00:10:00',
    });
    const tn = tenant();
    // the scheduler's signal key holds a value of the wrong type: the lane script fails
    // after Postgres took the rows (a real Redis error, as a failover at that instant gives)
    await redis.set(keys.schedulerSignal('graph'), 'not a list');
    const results = await producer.submitMany(
      Array.from({ length: 3 }, (_, i) => ({ tier: 'graph' as const, input: graphInput(tn, `m${i}`) })),
    );
    expect(results.map((r) => [r.status, r.parked ?? false])).toEqual([
      ['queued', false],
      ['queued', true],
      ['queued', true],
    ]);
    const parked = await t.db
      .selectFrom('attestor.rekor_parked')
      .select('content_digest')
      .where('tenant_id', '=', tn)
      .execute();
    expect(parked.map((r) => r.content_digest).sort()).toEqual(
      results
        .slice(1)
        .map((r) => r.contentDigest)
        .sort(),
    );
    // submitted again: the same answers, nothing stored twice
    const again = await producer.submitMany([{ tier: 'graph', input: graphInput(tn, 'm1') }]);
    expect(again[0]).toMatchObject({ status: 'duplicate' });
  });
});

describe('submitMany', () => {
  test('queues a batch with addBulk; one bad request refuses the whole batch with its index', async () => {
    const { producer, keys } = setup();
    const tn = tenant();
    const results = await producer.submitMany(
      Array.from({ length: 20 }, (_, i) => ({ tier: 'graph' as const, input: graphInput(tn, `m${i}`) })),
    );
    expect(results.every((r) => r.status === 'queued')).toBe(true);
    const queues = createTierQueues({ redis, keys });
    expect(await queues.backlog('graph')).toBe(20);
    const e = await errorOf(
      producer.submitMany([
        { tier: 'graph', input: graphInput(tn, 'ok') },
        { tier: 'graph', input: { tenantId: 'nope' } },
      ]),
    );
    expect(e).toMatchObject({ code: 'INVALID_BATCH', index: 1 });
    expect(await queues.backlog('graph')).toBe(20);
    await queues.close();
  });

  test('a hole in the array, or a request whose tier throws, refuses the batch with its index', async () => {
    const { producer } = setup();
    const tn = tenant();
    const good = { tier: 'graph' as const, input: graphInput(tn, 'kept-out') };
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [good, , good] as SubmitRequest[];
    expect(await errorOf(producer.submitMany(sparse))).toMatchObject({ code: 'INVALID_BATCH', index: 1 });
    const throwing = {
      get tier(): 'graph' {
        throw new Error('no tier here');
      },
      input: graphInput(tn, 'x'),
    };
    const e = await errorOf(producer.submitMany([throwing]));
    expect(e).toMatchObject({ code: 'INVALID_BATCH', index: 0 });
    expect((e as ProducerError).message).toContain('no tier here');
  });

  test('close answers a batch already submitted before it closes, and every close waits for it', async () => {
    const { producer, keys } = setup();
    const tn = tenant();
    const batch = producer.submitMany(
      Array.from({ length: 150 }, (_, i) => ({ tier: 'graph' as const, input: graphInput(tn, `c${i}`) })),
    );
    const first = producer.close();
    const second = producer.close();
    await second;
    // the batch was answered before either close resolved
    const results = await Promise.race([batch, Promise.resolve('not answered' as const)]);
    expect(results).not.toBe('not answered');
    expect((results as SubmitResult[]).every((r) => r.status === 'queued')).toBe(true);
    await first;
    const queues = createTierQueues({ redis, keys });
    expect(await queues.backlog('graph')).toBe(150);
    await queues.close();
  });
});

describe('submitMany, part of a batch not stored', () => {
  test('answers BATCH_INCOMPLETE with the result of each stored request and the error of each other one', async () => {
    // a role that may not write the offline queue: the overflowing tenant's part fails for real
    const role = `rb_no_offline_${Math.random().toString(36).slice(2, 10)}`;
    await sql.raw(`CREATE ROLE ${role} LOGIN`).execute(t.db);
    await sql.raw(`GRANT USAGE ON SCHEMA attestor TO ${role}`).execute(t.db);
    await sql
      .raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA attestor TO ${role}`)
      .execute(t.db);
    await sql.raw(`REVOKE INSERT ON attestor.rekor_offline_queue FROM ${role}`).execute(t.db);
    const url = new URL(t.url);
    url.username = role;
    const limited = createDb({ url: url.toString(), max: 2 });
    try {
      const prefix = uniquePrefix('prod-partial');
      prefixes.push(prefix);
      // room for two jobs: the first tenant's two fit, the second tenant's two overflow
      const config = testConfig({
        redis: { url: redisUrl(), keyPrefix: prefix },
        offline: { maxQueueSize: 2 },
      });
      const producer = createRekorProducer({ config, redis, db: limited });
      producers.push(producer);
      const [a, b] = [tenant(), tenant()];
      const requests = [
        { tier: 'graph' as const, input: graphInput(a, 'a0') },
        { tier: 'graph' as const, input: graphInput(a, 'a1') },
        { tier: 'graph' as const, input: graphInput(b, 'b0') },
        { tier: 'graph' as const, input: graphInput(b, 'b1') },
      ];
      const e = (await errorOf(producer.submitMany(requests))) as ProducerError;
      expect(e).toBeInstanceOf(ProducerError);
      expect(e.code).toBe('BATCH_INCOMPLETE');
      expect(e.message).toContain('2 of 4 requests were not stored');
      expect(e.results!.map((r) => r?.status)).toEqual(['queued', 'queued', undefined, undefined]);
      expect(e.errors!.map((x) => (x as ProducerError | undefined)?.code)).toEqual([
        undefined,
        undefined,
        'OFFLINE_QUEUE_UNAVAILABLE',
        'OFFLINE_QUEUE_UNAVAILABLE',
      ]);
      const queues = createTierQueues({ redis, keys: createRedisKeys(prefix) });
      expect(await queues.backlog('graph')).toBe(2);
      await queues.close();
    } finally {
      await limited.destroy();
      await sql.raw(`DROP OWNED BY ${role}`).execute(t.db);
      await sql.raw(`DROP ROLE ${role}`).execute(t.db);
    }
  });
});

describe('a slow Postgres look-up', () => {
  test('does not spend the Redis time limit: the submission is queued, not sent to the offline queue', async () => {
    const prefix = uniquePrefix('prod-slowpg');
    prefixes.push(prefix);
    const config: RekorConfig = testConfig({ redis: { url: redisUrl(), keyPrefix: prefix } });
    const producer = createRekorProducer({ config, redis, db: t.db, redisTimeoutMs: 300 });
    producers.push(producer);
    const tn = tenant();
    // another session holds the receipts table: the producer's look-up waits on it
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const locked = t.db.transaction().execute(async (trx) => {
      await sql`lock table attestor.rekor_entries in access exclusive mode`.execute(trx);
      await released;
    });
    const waitingLookups = async () =>
      (
        await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and query like '%content_places%'`.execute(t.db)
      ).rows[0]!.n;
    let submitted: Promise<SubmitResult> | undefined;
    try {
      // the lock is taken before the submission, which must wait on it
      await waitFor(async () => {
        const held = await sql<{ n: number }>`select count(*)::int as n from pg_locks
          where relation = 'attestor.rekor_entries'::regclass and mode = 'AccessExclusiveLock' and granted`.execute(
          t.db,
        );
        return held.rows[0]!.n === 1;
      });
      submitted = producer.submitGraphAttestation(graphInput(tn, 'slow-lookup'));
      await waitFor(async () => (await waitingLookups()) === 1, 10_000, 'the look-up waiting on the lock');
      // the look-up stays blocked for longer than redisTimeoutMs
      await new Promise((r) => setTimeout(r, 600));
    } finally {
      // released whatever happened above, or every later query of the file waits on it
      release();
      await locked;
    }
    const r = await submitted;
    expect(r.status).toBe('queued');
    expect(await offlineRows(tn)).toHaveLength(0);
  });
});

describe('Redis that answers reads but holds writes', () => {
  /** A producer (redisTimeoutMs 300) on a private Redis, its connection, and its prefix; all gone after `fn`. */
  async function onPrivateRedis(
    label: string,
    withDb: boolean,
    fn: (p: { producer: RekorProducer; conn: Redis; prefix: string }) => Promise<void>,
  ): Promise<void> {
    const server = await startPrivateRedis();
    const conn = new Redis(server.url, { maxRetriesPerRequest: 1 });
    try {
      const prefix = uniquePrefix(label);
      const config: RekorConfig = testConfig({ redis: { url: server.url, keyPrefix: prefix } });
      const producer = createRekorProducer({
        config,
        redis: conn,
        redisTimeoutMs: 300,
        ...(withDb ? { db: t.db } : {}),
      });
      producers.push(producer);
      await fn({ producer, conn, prefix });
    } finally {
      await Promise.all(producers.splice(0).map((p) => p.close()));
      conn.disconnect();
      await server.destroy();
    }
  }

  test('a content waiting in the queue stays a duplicate; the rest goes to Postgres', () =>
    onPrivateRedis('prod-paused', true, async ({ producer, conn }) => {
      const tn = tenant();
      expect((await producer.submitGraphAttestation(graphInput(tn, 'waiting'))).status).toBe('queued');
      // writes (and scripts) wait 2 s: the read answers, the adds do not
      await conn.client('PAUSE', 2_000, 'WRITE');
      const [waiting, fresh] = await producer.submitMany([
        { tier: 'graph', input: graphInput(tn, 'waiting') },
        { tier: 'graph', input: graphInput(tn, 'fresh') },
      ]);
      expect(waiting!.status).toBe('duplicate');
      expect(fresh).toMatchObject({ status: 'overflowed', offlineReason: 'redis_unavailable' });
      expect((await offlineRows(tn)).map((r) => r.content_digest)).toEqual([fresh!.contentDigest]);
    }));

  test('an add sent before Redis stopped answering, with nowhere else to keep it: "may have been queued", not "nothing stored"', () =>
    // no database: Postgres cannot keep what Redis does not answer for
    onPrivateRedis('prod-late-add', false, async ({ producer, conn, prefix }) => {
      const tn = tenant();
      expect((await producer.submitGraphAttestation(graphInput(tn, 'first'))).status).toBe('queued');
      await conn.client('PAUSE', 1_500, 'WRITE');
      const e = (await errorOf(producer.submitGraphAttestation(graphInput(tn, 'late')))) as ProducerError;
      expect(e.code).toBe('SUBMIT_FAILED');
      expect(e.message).toContain('may have been queued all the same');
      // and so it was, once Redis went on
      const queues = createTierQueues({ redis: conn, keys: createRedisKeys(prefix) });
      await waitFor(async () => (await queues.backlog('graph')) === 2, 10_000, 'the late add to land');
      await queues.close();
    }));
});

describe('concurrent single submissions', () => {
  test('calls made together share a batch: each gets its own answer, the same content twice is one job', async () => {
    const { producer, keys } = setup();
    const tenants = Array.from({ length: 5 }, () => tenant());
    const inputs = Array.from({ length: 60 }, (_, i) => graphInput(tenants[i % 5]!, `c${i}`));
    const results = await Promise.all([
      ...inputs.map((input) => producer.submitGraphAttestation(input)),
      // the first content once more, in the same turn
      producer.submitGraphAttestation(inputs[0]),
    ]);
    expect(results.slice(0, 60).map((r) => r.status)).toEqual(Array(60).fill('queued'));
    // each call is answered about its own content
    expect(results.slice(0, 60).map((r) => r.contentDigest)).toEqual(
      inputs.map((i) => contentDigest('graph', validateGraphInput(i))),
    );
    expect(results[60]).toMatchObject({ status: 'duplicate', contentDigest: results[0]!.contentDigest });
    const queues = createTierQueues({ redis, keys });
    expect(await queues.backlog('graph')).toBe(60);
    await queues.close();
  });

  // 101: in addBulk chunks; 40: one add per job (a small batch)
  test.each([101, 40])(
    'a batch of %i over many tenants: every job queued once, each tenant counted',
    async (n) => {
      const { producer, keys } = setup();
      const tenants = Array.from({ length: 7 }, () => tenant());
      // uneven per tenant
      const inputs = Array.from({ length: n }, (_, i) => graphInput(tenants[i % 7]!, `k${i}`));
      const results = await producer.submitMany(inputs.map((input) => ({ tier: 'graph' as const, input })));
      expect(results.filter((r) => r.status === 'queued')).toHaveLength(n);
      const queues = createTierQueues({ redis, keys });
      expect(await queues.backlog('graph')).toBe(n);
      await queues.close();
      const tallies = await createLanes(redis, keys).tallies('graph', tenants);
      expect(tenants.map((tn) => tallies.get(tn)?.queued)).toEqual(
        tenants.map((_, k) => inputs.filter((_, i) => i % 7 === k).length),
      );
    },
  );

  test('a finished job of a content Postgres does not know is replaced: the content is queued again', async () => {
    const { producer, keys } = setup();
    const tn = tenant();
    const first = await producer.submitGraphAttestation(graphInput(tn, 'again'));
    const queues = createTierQueues({ redis, keys });
    const queue = queues.get('graph');
    // the job finished (as one that ran out of attempts would) and left no receipt, no offline row
    const job = (await queue.getJob(first.jobId))!;
    await redis.hset(queue.toKey(first.jobId), 'finishedOn', Date.now());
    const again = await producer.submitGraphAttestation(graphInput(tn, 'again'));
    expect(again.status).toBe('queued');
    const replaced = (await queue.getJob(first.jobId))!;
    expect(replaced.finishedOn).toBeUndefined();
    expect(replaced.timestamp).toBeGreaterThanOrEqual(job.timestamp);
    expect(await replaced.getState()).toBe('waiting');
    await queues.close();
  });

  test('a bad input among them is refused alone; close answers the calls already made first', async () => {
    const { producer, keys } = setup();
    const tn = tenant();
    const good = Array.from({ length: 10 }, (_, i) =>
      producer.submitGraphAttestation(graphInput(tn, `g${i}`)),
    );
    const bad = errorOf(
      producer.submitGraphAttestation({ ...graphInput(tn, 'bad'), graphDigest: 'sha256:00' }),
    );
    const closing = producer.close();
    expect((await Promise.all(good)).every((r) => r.status === 'queued')).toBe(true);
    expect(await bad).toMatchObject({ code: 'INVALID_DIGEST' });
    await closing;
    expect(await errorOf(producer.submitGraphAttestation(graphInput(tn, 'late')))).toMatchObject({
      code: 'CLOSED',
    });
    const queues = createTierQueues({ redis, keys });
    expect(await queues.backlog('graph')).toBe(10);
    await queues.close();
  });
});

describe('submitEdgeBundle', () => {
  test('graph-only refuses Tier 2 with TIER_DISABLED', async () => {
    const { producer } = setup({ tier: 'graph-only' });
    const e = await errorOf(producer.submitEdgeBundle(edgeInput(tenant(), 's')));
    expect(e).toBeInstanceOf(ProducerError);
    expect(e.code).toBe('TIER_DISABLED');
  });

  test('edgeBundles.enabled: false refuses with TIER_DISABLED', async () => {
    const { producer } = setup({ tier: 'with-edges', edgeBundles: { enabled: false } });
    expect((await errorOf(producer.submitEdgeBundle(edgeInput(tenant(), 's')))).code).toBe('TIER_DISABLED');
  });

  test('a finding no trigger escalates is refused with NOT_ESCALATED', async () => {
    const { producer } = setup({ tier: 'with-edges' });
    expect((await errorOf(producer.submitEdgeBundle(edgeInput(tenant(), 's', 7.5)))).code).toBe(
      'NOT_ESCALATED',
    );
  });

  test('an escalated finding is queued with the triggers that fired', async () => {
    const { producer } = setup({ tier: 'with-edges' });
    const input = { ...edgeInput(tenant(), 's'), escalation: { manual: { requestedBy: 'secteam' } } };
    const r = await producer.submitEdgeBundle(input);
    expect(r).toMatchObject({ status: 'queued', tier: 'edge', triggers: ['cvss', 'manual'] });
    expect(r.jobId.startsWith('edge-')).toBe(true);
  });
});

describe('overflow', () => {
  test('at offline.maxQueueSize the excess goes to Postgres, once per content', async () => {
    const { producer } = setup({ offline: { maxQueueSize: 2 } });
    const tn = tenant();
    const results = [];
    for (const s of ['a', 'b', 'c', 'd'])
      results.push(await producer.submitGraphAttestation(graphInput(tn, s)));
    expect(results.map((r) => r.status)).toEqual(['queued', 'queued', 'overflowed', 'overflowed']);
    expect(results[2]!.offlineReason).toBe('overflow');
    expect(await producer.submitGraphAttestation(graphInput(tn, 'c'))).toMatchObject({ status: 'duplicate' });
    const rows = await offlineRows(tn);
    expect(rows.map((r) => r.content_digest).sort()).toEqual(
      [results[2]!.contentDigest, results[3]!.contentDigest].sort(),
    );
    expect(rows.every((r) => r.reason === 'overflow' && r.tier === 'graph')).toBe(true);
    expect(JSON.parse(rows[0]!.payload.toString())).toMatchObject({ version: 1, tier: 'graph' });
  });

  test('with the offline queue disabled, a full backlog is QUEUE_FULL', async () => {
    const { producer } = setup({ offline: { maxQueueSize: 1, queueEnabled: false } });
    const tn = tenant();
    await producer.submitGraphAttestation(graphInput(tn, 'a'));
    expect((await errorOf(producer.submitGraphAttestation(graphInput(tn, 'b')))).code).toBe('QUEUE_FULL');
  });

  test('a content twice whose first copy was not stored: the repeat is not answered duplicate, it fails the same', async () => {
    const { producer, keys } = setup({ offline: { maxQueueSize: 1, queueEnabled: false } });
    const tn = tenant();
    const stored = await producer.submitGraphAttestation(graphInput(tn, 'room'));
    expect(stored.status).toBe('queued');
    // the backlog is full: neither copy is stored, and both say so
    const twice = [0, 1].map(() => ({ tier: 'graph' as const, input: graphInput(tn, 'no-room') }));
    expect((await errorOf(producer.submitMany(twice))).code).toBe('QUEUE_FULL');
    const singles = await Promise.allSettled(
      [0, 1].map(() => producer.submitGraphAttestation(graphInput(tn, 'no-room'))),
    );
    expect(singles.map((r) => r.status === 'rejected' && (r.reason as ProducerError).code)).toEqual([
      'QUEUE_FULL',
      'QUEUE_FULL',
    ]);
    // with a copy stored, the repeat is its duplicate, in the same batch
    const [again, repeat] = await producer.submitMany([
      { tier: 'graph', input: graphInput(tn, 'room') },
      { tier: 'graph', input: graphInput(tn, 'room') },
    ]);
    expect([again!.status, repeat!.status]).toEqual(['duplicate', 'duplicate']);
    const queues = createTierQueues({ redis, keys });
    expect(await queues.backlog('graph')).toBe(1);
    await queues.close();
  });

  test('when Redis does not answer the submission goes to Postgres', async () => {
    const config = testConfig({ redis: { url: 'redis://127.0.0.1:1', keyPrefix: uniquePrefix('down') } });
    const producer = createRekorProducer({ config, db: t.db, redisTimeoutMs: 300 });
    producers.push(producer);
    const tn = tenant();
    const r = await producer.submitGraphAttestation(graphInput(tn, 'x'));
    expect(r).toMatchObject({ status: 'overflowed', offlineReason: 'redis_unavailable' });
    expect(await offlineRows(tn)).toHaveLength(1);
  });

  test('Redis away and no database: REDIS_UNAVAILABLE, nothing pretends to be stored', async () => {
    const config = testConfig({ redis: { url: 'redis://127.0.0.1:1', keyPrefix: uniquePrefix('down') } });
    const producer = createRekorProducer({ config, redisTimeoutMs: 300 });
    producers.push(producer);
    expect((await errorOf(producer.submitGraphAttestation(graphInput(tenant(), 'x')))).code).toBe(
      'REDIS_UNAVAILABLE',
    );
  });

  test('Redis and Postgres both away: OFFLINE_QUEUE_UNAVAILABLE', async () => {
    const config = testConfig({ redis: { url: 'redis://127.0.0.1:1', keyPrefix: uniquePrefix('down') } });
    const deadDb = createDb({ url: 'postgres://postgres@127.0.0.1:1/none' });
    const producer = createRekorProducer({ config, db: deadDb, redisTimeoutMs: 300 });
    try {
      expect((await errorOf(producer.submitGraphAttestation(graphInput(tenant(), 'x')))).code).toBe(
        'OFFLINE_QUEUE_UNAVAILABLE',
      );
    } finally {
      await producer.close();
      await deadDb.destroy();
    }
  });
});

describe('issue 16: a scanner’s everyday inputs and a Redis that is away', () => {
  test('scanFinishedAt may be a JS Date: the same instant as its RFC 3339 text, one content', async () => {
    const { producer } = setup();
    const tn = tenant();
    const at = new Date('2025-12-20T10:00:00.000Z');
    const first = await producer.submitGraphAttestation({ ...graphInput(tn, 'd'), scanFinishedAt: at });
    expect(first.status).toBe('queued');
    const again = await producer.submitGraphAttestation({
      ...graphInput(tn, 'd'),
      scanFinishedAt: '2025-12-20T10:00:00Z',
    });
    expect(again).toMatchObject({ status: 'duplicate', contentDigest: first.contentDigest });
  });

  test('an invalid Date is an InputError on scanFinishedAt that says so', async () => {
    const { producer } = setup();
    const e = await errorOf(
      producer.submitGraphAttestation({ ...graphInput(tenant(), 'bad'), scanFinishedAt: new Date('nope') }),
    );
    expect(e).toBeInstanceOf(InputError);
    expect(e).toMatchObject({ code: 'INVALID_INPUT', field: 'scanFinishedAt' });
    expect((e as unknown as Error).message).toContain('is an invalid Date');
  });

  test('Redis refusing connections: submissions go to Postgres without waiting out a long redisTimeoutMs', async () => {
    const config = testConfig({ redis: { url: 'redis://127.0.0.1:1', keyPrefix: uniquePrefix('down') } });
    // a timeout far beyond this test's own: only a refusal taken as the answer lets it finish
    const producer = createRekorProducer({ config, db: t.db, redisTimeoutMs: 10 * 60_000 });
    producers.push(producer);
    const tn = tenant();
    for (const scan of ['a', 'b', 'c']) {
      const r = await producer.submitGraphAttestation(graphInput(tn, scan));
      expect(r).toMatchObject({ status: 'overflowed', offlineReason: 'redis_unavailable' });
    }
    expect(await offlineRows(tn)).toHaveLength(3);
  });
});

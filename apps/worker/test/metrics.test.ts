import { randomUUID } from 'node:crypto';
import { createRekorProducer, type RekorProducer } from '@rekor-budget/producer';
import { edgeInput, startPrivatePostgres } from '@rekor-budget/testing';
import { runWorkers, type RunningWorkers } from '@rekor-budget/worker';
import { createHarness, graphInput, waitFor, type Harness } from './harness';

jest.setTimeout(60_000);

let h: Harness;
let running: RunningWorkers;
let producer: RekorProducer;

const TOKEN = 'scrape-token-for-the-worker-test';
const bearer = { headers: { authorization: `Bearer ${TOKEN}` } };

beforeAll(async () => {
  h = await createHarness({ metrics: { token: TOKEN } });
  running = await runWorkers({ runtime: h.runtime, roles: ['graph', 'edge'], metricsPort: 0 });
  producer = createRekorProducer({
    config: h.config,
    redis: h.redis,
    db: h.t.db,
    metrics: h.runtime.metrics,
  });
});
afterAll(async () => {
  await producer.close();
  await running.close();
  await h.close();
});

/** Scrapes /metrics over HTTP into `name{label="v",...}` -> value (labels sorted). */
async function scrape(): Promise<Map<string, number>> {
  const text = await (await fetch(`${running.metricsUrl}/metrics`, bearer)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = (m[2] ?? '')
      .split(/,(?=[a-z_]+=)/)
      .filter(Boolean)
      .sort()
      .join(',');
    out.set(labels ? `${m[1]}{${labels}}` : m[1]!, Number(m[3]));
  }
  return out;
}

function edge(tenantId: string, scan: string, escalation: object, cvss = 9.8) {
  return { ...edgeInput(tenantId, scan, cvss), escalation };
}

test('after a scripted run, every metric on /metrics says what the run did', async () => {
  const a = randomUUID();
  const b = randomUUID();
  const receipts = async (tier: string) => (await h.receipts()).filter((r) => r.tier === tier).length;

  // B: one graph attestation; Rekor answers 503 once, the retry is created
  h.rekor.faults.set({ mode: '503', count: 1 });
  await producer.submitGraphAttestation(graphInput(b, 'b-0'));
  await waitFor(async () => (await receipts('graph')) === 1, 15_000, "B's receipt");

  // A: 35 at once; the burst window admits 33, two wait parked
  for (let i = 0; i < 35; i++) await producer.submitGraphAttestation(graphInput(a, `a-${i}`));
  // B: two escalated edge bundles (cvss; cvss + manual), one finding that does not escalate
  await producer.submitEdgeBundle(edge(b, 'e-1', {}));
  await producer.submitEdgeBundle(edge(b, 'e-2', { manual: { requestedBy: 'secteam' } }));
  await expect(producer.submitEdgeBundle(edge(b, 'e-3', {}, 5.0))).rejects.toMatchObject({
    code: 'NOT_ESCALATED',
  });
  // and one invalid submission
  await expect(
    producer.submitGraphAttestation({ ...graphInput(a, 'bad'), graphDigest: 'md5:0' }),
  ).rejects.toMatchObject({
    code: 'INVALID_DIGEST',
  });

  await waitFor(
    async () => (await receipts('graph')) === 34 && (await receipts('edge')) === 2,
    30_000,
    'all receipts',
  );
  // A job completes only after its counters are recorded: wait for completions, not receipts.
  await waitFor(async () => (await h.parked(a)) === 2, 10_000, 'two parked jobs');
  // 34 logged, and the two runs that parked their jobs
  await waitFor(async () => (await h.queues.graph.getCompletedCount()) === 36, 10_000, 'graph completions');
  await waitFor(async () => (await h.queues.edge.getCompletedCount()) === 2, 10_000, 'edge completions');

  const m = await scrape();
  const v = (key: string) => m.get(key);
  expect(v('attestor_rekor_submissions_total{status="created",tier="graph"}')).toBe(34);
  expect(v('attestor_rekor_submissions_total{status="created",tier="edge"}')).toBe(2);
  expect(v('attestor_rekor_submissions_total{status="failed",tier="graph"}')).toBe(0);
  expect(v('attestor_rekor_submissions_total{status="offline",tier="graph"}')).toBe(0);
  expect(v('attestor_rekor_submission_latency_seconds_count{tier="graph"}')).toBe(34);
  expect(v('attestor_rekor_submission_latency_seconds_count{tier="edge"}')).toBe(2);
  expect(v('attestor_rekor_queue_depth{tier="graph"}')).toBe(2);
  expect(v('attestor_rekor_queue_depth{tier="edge"}')).toBe(0);
  expect(v('attestor_rekor_offline_queue_depth{tier="graph"}')).toBe(0);
  expect(v('attestor_rekor_offline_queue_depth{tier="edge"}')).toBe(0);
  // A used 33 of its hour and all 33 of its burst window
  expect(v(`attestor_rekor_budget_remaining{tenant="${a}"}`)).toBe(67);
  expect(v(`attestor_rekor_budget_utilization{tenant="${a}"}`)).toBe(1);
  // B's graph attestation took two POSTs (the 503 counts): 2 of 100, 2 of 33
  expect(v(`attestor_rekor_budget_remaining{tenant="${b}"}`)).toBe(98);
  expect(v(`attestor_rekor_budget_utilization{tenant="${b}"}`)).toBeCloseTo(2 / 33, 6);
  expect(v('attestor_rekor_submissions_rejected_total{reason="budget_exceeded",tier="graph"}')).toBe(2);
  expect(v('attestor_rekor_submissions_rejected_total{reason="invalid_input",tier="graph"}')).toBe(1);
  expect(v('attestor_rekor_submissions_rejected_total{reason="not_escalated",tier="edge"}')).toBe(1);
  expect(v('attestor_rekor_submissions_rejected_total{reason="budget_exceeded",tier="edge"}')).toBe(0);
  expect(v('attestor_rekor_submission_errors_total{reason="retryable",tier="graph"}')).toBe(1);
  expect(v('attestor_rekor_submission_errors_total{reason="unreachable",tier="graph"}')).toBe(0);
  expect(v('attestor_rekor_edge_bundle_triggers_total{trigger="cvss"}')).toBe(2);
  expect(v('attestor_rekor_edge_bundle_triggers_total{trigger="manual"}')).toBe(1);
  expect(v('attestor_rekor_edge_bundle_triggers_total{trigger="policy_gate"}')).toBe(0);

  const ready = await fetch(`${running.metricsUrl}/readyz`, bearer);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({
    checks: { redis: { ok: true }, postgres: { ok: true }, rekor: { ok: true } },
  });
});

test('the worker serves metrics on 127.0.0.1 and only with the configured token (finding 10)', async () => {
  expect(running.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const anonymous = await fetch(`${running.metricsUrl}/metrics`);
  expect(anonymous.status).toBe(401);
  expect(await anonymous.text()).not.toContain('tenant=');
  const ready = await fetch(`${running.metricsUrl}/readyz`);
  expect(await ready.json()).toEqual({ status: 'ready' });
});

test('a tenant out of Tier 2 bundles for the day is at utilization 1, whatever its Tier 1 use', async () => {
  const t = randomUUID();
  const daily = h.config.edgeBundles.dailyLimit;
  for (let i = 0; i < daily; i++) expect((await h.runtime.budget.tryConsume(t, 'edge')).admitted).toBe(true);
  const m = await scrape();
  expect(m.get(`attestor_rekor_budget_utilization{tenant="${t}"}`)).toBe(1);
  // the hourly Tier 1 budget is untouched
  expect(m.get(`attestor_rekor_budget_remaining{tenant="${t}"}`)).toBe(h.config.budget.hourlyLimit);
});

test('with Postgres away, the queue depth still counts the jobs in Redis', async () => {
  const pg = await startPrivatePostgres();
  const away = await createHarness({}, { databaseUrl: pg.url });
  try {
    for (let i = 0; i < 3; i++)
      await away.producer.submitGraphAttestation(graphInput(randomUUID(), `depth-${i}`));
    const depth = async () =>
      /^attestor_rekor_queue_depth\{tier="graph"\} (\d+)$/m.exec(await away.runtime.registry.metrics())?.[1];
    expect(await depth()).toBe('3');
    await pg.stop();
    expect(await depth()).toBe('3');
  } finally {
    await away.close();
    await pg.destroy();
  }
});

test('a producer with metrics counts each submission it parks on arrival as refused for budget', async () => {
  const budgeted = createRekorProducer({
    config: h.config,
    redis: h.redis,
    db: h.t.db,
    metrics: h.runtime.metrics,
    budget: h.runtime.budget,
  });
  try {
    const t = randomUUID();
    // the burst window is full: what the tenant submits now parks
    for (let i = 0; i < 33; i++) expect((await h.runtime.budget.tryConsume(t, 'graph')).admitted).toBe(true);
    const refused = async () =>
      Number(
        /^attestor_rekor_submissions_rejected_total\{tier="graph",reason="budget_exceeded"\} (\d+)$/m.exec(
          await h.runtime.registry.metrics(),
        )?.[1] ?? 0,
      );
    const before = await refused();
    const results = await budgeted.submitMany(
      Array.from({ length: 4 }, (_, i) => ({ tier: 'graph' as const, input: graphInput(t, `parked-${i}`) })),
    );
    expect(results.every((r) => r.status === 'queued' && r.parked === true)).toBe(true);
    expect(await refused()).toBe(before + 4);
    // a repeat is a duplicate, not a second refusal
    await budgeted.submitGraphAttestation(graphInput(t, 'parked-0'));
    expect(await refused()).toBe(before + 4);
  } finally {
    await budgeted.close();
  }
});

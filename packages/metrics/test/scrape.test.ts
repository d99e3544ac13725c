import { Registry } from 'prom-client';
import {
  METRIC_NAMES,
  MetricsError,
  RekorMetrics,
  startMetricsServer,
  type MetricsServer,
  type MetricsSources,
  type SourceName,
  type TenantBudget,
} from '@rekor-budget/metrics';
import { http, parseExposition, samples, TENANT, value } from './helpers';

/** Sources whose values the test changes between scrapes. */
function liveSources() {
  const state = {
    queue: { graph: 0, edge: 0 },
    offline: { graph: 0, edge: 0 },
    budgets: [] as TenantBudget[],
    budgetCalls: 0,
  };
  const sources: MetricsSources = {
    queueDepth: async () => ({ ...state.queue }),
    offlineDepth: async () => ({ ...state.offline }),
    rejectedDepth: async () => ({ graph: 0, edge: 0 }),
    budgets: async () => {
      state.budgetCalls++;
      return state.budgets;
    },
  };
  return { state, sources };
}

const servers: MetricsServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(registry: Registry): Promise<MetricsServer> {
  const s = await startMetricsServer({ registry, port: 0, host: '127.0.0.1', readiness: async () => ({}) });
  servers.push(s);
  return s;
}

async function scrape(server: MetricsServer) {
  const res = await http(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  return parseExposition(res.body);
}

describe('/metrics over HTTP', () => {
  it('exposes every metric with its type and labels in the text format', async () => {
    const registry = new Registry();
    const { state, sources } = liveSources();
    state.budgets = [{ tenantId: TENANT(1), remaining: 40, utilization: 0.6 }];
    const m = new RekorMetrics({ registry, sources });
    m.submission('graph', 'created');
    m.latencySeconds('edge', 12);
    m.rejected('graph', 'rate_limited');
    m.error('edge', 'frozen');
    m.edgeBundleTriggered('policy_gate');
    const server = await serve(registry);

    const res = await http(`${server.url}/metrics`);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const e = parseExposition(res.body);
    expect(Object.fromEntries(e.types)).toEqual({
      attestor_rekor_submissions_total: 'counter',
      attestor_rekor_submission_latency_seconds: 'histogram',
      attestor_rekor_queue_depth: 'gauge',
      attestor_rekor_offline_queue_depth: 'gauge',
      attestor_rekor_rejected_depth: 'gauge',
      attestor_rekor_budget_remaining: 'gauge',
      attestor_rekor_budget_utilization: 'gauge',
      attestor_rekor_submissions_rejected_total: 'counter',
      attestor_rekor_submission_errors_total: 'counter',
      attestor_rekor_edge_bundle_triggers_total: 'counter',
      attestor_rekor_shard_switches_total: 'counter',
      attestor_rekor_up: 'gauge',
    });
    for (const name of e.types.keys()) expect(e.help.get(name)).toBeTruthy();

    expect(value(e, 'attestor_rekor_submissions_total', { tier: 'graph', status: 'created' })).toBe(1);
    expect(value(e, 'attestor_rekor_submission_latency_seconds_count', { tier: 'edge' })).toBe(1);
    expect(value(e, 'attestor_rekor_submission_latency_seconds_bucket', { tier: 'edge', le: '30' })).toBe(1);
    expect(value(e, 'attestor_rekor_submission_latency_seconds_bucket', { tier: 'edge', le: '10' })).toBe(0);
    expect(
      value(e, 'attestor_rekor_submissions_rejected_total', { tier: 'graph', reason: 'rate_limited' }),
    ).toBe(1);
    expect(value(e, 'attestor_rekor_submission_errors_total', { tier: 'edge', reason: 'frozen' })).toBe(1);
    expect(value(e, 'attestor_rekor_edge_bundle_triggers_total', { trigger: 'policy_gate' })).toBe(1);
    expect(value(e, 'attestor_rekor_budget_remaining', { tenant: TENANT(1) })).toBe(40);
    expect(value(e, 'attestor_rekor_budget_utilization', { tenant: TENANT(1) })).toBe(0.6);

    const labelsOf = (name: string) => new Set(samples(e, name).flatMap((s) => Object.keys(s.labels)));
    expect(labelsOf('attestor_rekor_submissions_total')).toEqual(new Set(['tier', 'status']));
    expect(labelsOf('attestor_rekor_queue_depth')).toEqual(new Set(['tier']));
    expect(labelsOf('attestor_rekor_offline_queue_depth')).toEqual(new Set(['tier']));
    expect(labelsOf('attestor_rekor_budget_remaining')).toEqual(new Set(['tenant']));
    expect(labelsOf('attestor_rekor_budget_utilization')).toEqual(new Set(['tenant']));
    expect(labelsOf('attestor_rekor_submissions_rejected_total')).toEqual(new Set(['tier', 'reason']));
    expect(labelsOf('attestor_rekor_submission_errors_total')).toEqual(new Set(['tier', 'reason']));
    expect(labelsOf('attestor_rekor_edge_bundle_triggers_total')).toEqual(new Set(['trigger']));
    expect(labelsOf('attestor_rekor_submission_latency_seconds_bucket')).toEqual(new Set(['tier', 'le']));
  });

  it('computes the gauges from the sources at each scrape', async () => {
    const registry = new Registry();
    const { state, sources } = liveSources();
    new RekorMetrics({ registry, sources });
    const server = await serve(registry);

    state.queue = { graph: 1200, edge: 3 };
    state.offline = { graph: 0, edge: 7 };
    state.budgets = [{ tenantId: TENANT(1), remaining: 20, utilization: 0.8 }];
    let e = await scrape(server);
    expect(value(e, METRIC_NAMES.queueDepth, { tier: 'graph' })).toBe(1200);
    expect(value(e, METRIC_NAMES.queueDepth, { tier: 'edge' })).toBe(3);
    expect(value(e, METRIC_NAMES.offlineQueueDepth, { tier: 'graph' })).toBe(0);
    expect(value(e, METRIC_NAMES.offlineQueueDepth, { tier: 'edge' })).toBe(7);
    expect(value(e, METRIC_NAMES.budgetUtilization, { tenant: TENANT(1) })).toBe(0.8);

    state.queue = { graph: 5, edge: 0 };
    state.offline = { graph: 2, edge: 0 };
    state.budgets = [{ tenantId: TENANT(2), remaining: 100, utilization: 0 }];
    e = await scrape(server);
    expect(value(e, METRIC_NAMES.queueDepth, { tier: 'graph' })).toBe(5);
    expect(value(e, METRIC_NAMES.offlineQueueDepth, { tier: 'graph' })).toBe(2);
    // A tenant no longer reported disappears: no stale series.
    expect(samples(e, METRIC_NAMES.budgetRemaining).map((s) => s.labels.tenant)).toEqual([TENANT(2)]);
    expect(samples(e, METRIC_NAMES.budgetUtilization).map((s) => s.labels.tenant)).toEqual([TENANT(2)]);
  });

  it('calls the budgets source once per scrape for both budget gauges', async () => {
    const registry = new Registry();
    const { state, sources } = liveSources();
    new RekorMetrics({ registry, sources });
    const server = await serve(registry);
    state.budgetCalls = 0;
    await scrape(server);
    expect(state.budgetCalls).toBe(1);
    await scrape(server);
    expect(state.budgetCalls).toBe(2);
  });

  it('exposes no gauge series without sources', async () => {
    const registry = new Registry();
    new RekorMetrics({ registry });
    const e = await scrape(await serve(registry));
    for (const name of [
      METRIC_NAMES.queueDepth,
      METRIC_NAMES.offlineQueueDepth,
      METRIC_NAMES.budgetRemaining,
      METRIC_NAMES.budgetUtilization,
    ]) {
      expect(e.types.get(name)).toBe('gauge');
      expect(samples(e, name)).toEqual([]);
    }
  });

  it('keeps serving when a source fails, times out or returns bad values, and reports it', async () => {
    const registry = new Registry();
    const reported: Array<[SourceName, string]> = [];
    new RekorMetrics({
      registry,
      sourceTimeoutMs: 100,
      onSourceError: (source, error) => {
        expect(error).toBeInstanceOf(MetricsError);
        reported.push([source, error.code]);
      },
      sources: {
        queueDepth: async () => {
          throw new Error('redis: connection refused');
        },
        offlineDepth: () => new Promise(() => undefined), // never answers
        budgets: async () => [
          { tenantId: 'not-a-uuid', remaining: 1, utilization: 0.1 },
          { tenantId: TENANT(3), remaining: Number.NaN, utilization: 0.1 },
          { tenantId: TENANT(4), remaining: 5, utilization: 0.95 },
        ],
      },
    });
    const e = await scrape(await serve(registry));
    expect(samples(e, METRIC_NAMES.queueDepth)).toEqual([]);
    expect(samples(e, METRIC_NAMES.offlineQueueDepth)).toEqual([]);
    expect(samples(e, METRIC_NAMES.budgetRemaining).map((s) => s.labels.tenant)).toEqual([TENANT(4)]);
    expect(value(e, METRIC_NAMES.submissionsTotal, { tier: 'graph', status: 'created' })).toBe(0);
    expect(reported).toEqual(
      expect.arrayContaining([
        ['queueDepth', 'SOURCE_FAILED'],
        ['offlineDepth', 'SOURCE_FAILED'],
        ['budgets', 'SOURCE_FAILED'],
      ]),
    );
  });
});

describe('per-tenant cardinality bound', () => {
  it('exposes at most maxTenantSeries tenants, the most utilized', async () => {
    const registry = new Registry();
    const budgets: TenantBudget[] = [];
    for (let i = 1; i <= 2000; i++)
      budgets.push({ tenantId: TENANT(i), remaining: 100 - (i % 100), utilization: (i % 1000) / 1000 });
    new RekorMetrics({ registry, maxTenantSeries: 10, sources: { budgets: async () => budgets } });
    const e = await scrape(await serve(registry));
    const util = samples(e, METRIC_NAMES.budgetUtilization);
    expect(util).toHaveLength(10);
    expect(samples(e, METRIC_NAMES.budgetRemaining)).toHaveLength(10);
    // The 10 highest utilizations are 0.999 (i = 999, 1999), 0.998, ... 0.995.
    expect(Math.min(...util.map((s) => s.value))).toBe(0.995);
    expect(new Set(util.map((s) => s.labels.tenant))).toEqual(
      new Set(samples(e, METRIC_NAMES.budgetRemaining).map((s) => s.labels.tenant)),
    );
  });

  it('defaults to 500 tenants', async () => {
    const registry = new Registry();
    const budgets = Array.from({ length: 800 }, (_, i) => ({
      tenantId: TENANT(i + 1),
      remaining: 1,
      utilization: 0.5,
    }));
    new RekorMetrics({ registry, sources: { budgets: async () => budgets } });
    const e = await scrape(await serve(registry));
    expect(samples(e, METRIC_NAMES.budgetUtilization)).toHaveLength(500);
  });

  it('clamps utilization to 0..1 and folds tenant ids to lower case', async () => {
    const registry = new Registry();
    const upper = TENANT(10).toUpperCase();
    new RekorMetrics({
      registry,
      sources: { budgets: async () => [{ tenantId: upper, remaining: 0, utilization: 1.3 }] },
    });
    const e = await scrape(await serve(registry));
    expect(value(e, METRIC_NAMES.budgetUtilization, { tenant: TENANT(10) })).toBe(1);
  });
});

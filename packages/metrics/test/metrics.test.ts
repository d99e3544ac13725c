import { Registry, register as defaultRegistry } from 'prom-client';
import {
  ERROR_REASONS,
  LATENCY_BUCKETS,
  METRIC_NAMES,
  MetricsError,
  REJECTION_REASONS,
  RekorMetrics,
  SUBMISSION_STATUSES,
} from '@rekor-budget/metrics';

type Json = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];
/** Histogram values carry the series name (`_bucket`, `_sum`, `_count`). */
const vals = (m: Json) => m.values as Array<Json['values'][number] & { metricName?: string }>;

async function metricsJson(registry: Registry): Promise<Map<string, Json>> {
  return new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, m]));
}

function valueOf(m: Json | undefined, labels: Record<string, string | number>): number | undefined {
  return m?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MetricsError);
    return (e as MetricsError).code;
  }
  throw new Error('expected a MetricsError');
}

describe('RekorMetrics: names, labels and types', () => {
  const EXPECTED: Record<string, { type: string; labels: string[] }> = {
    attestor_rekor_submissions_total: { type: 'counter', labels: ['tier', 'status'] },
    attestor_rekor_submission_latency_seconds: { type: 'histogram', labels: ['tier'] },
    attestor_rekor_queue_depth: { type: 'gauge', labels: ['tier'] },
    attestor_rekor_offline_queue_depth: { type: 'gauge', labels: ['tier'] },
    attestor_rekor_rejected_depth: { type: 'gauge', labels: ['tier'] },
    attestor_rekor_budget_remaining: { type: 'gauge', labels: ['tenant'] },
    attestor_rekor_budget_utilization: { type: 'gauge', labels: ['tenant'] },
    attestor_rekor_submissions_rejected_total: { type: 'counter', labels: ['tier', 'reason'] },
    attestor_rekor_submission_errors_total: { type: 'counter', labels: ['tier', 'reason'] },
    attestor_rekor_edge_bundle_triggers_total: { type: 'counter', labels: ['trigger'] },
    attestor_rekor_shard_switches_total: { type: 'counter', labels: ['from', 'to', 'reason'] },
    attestor_rekor_up: { type: 'gauge', labels: ['log'] },
  };

  it('registers exactly the eleven metrics, with their types', async () => {
    const registry = new Registry();
    new RekorMetrics({ registry });
    const json = await metricsJson(registry);
    expect([...json.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(Object.values(METRIC_NAMES).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [name, e] of Object.entries(EXPECTED))
      expect([name, json.get(name)?.type]).toEqual([name, e.type]);
  });

  it('uses exactly the documented label names', async () => {
    const registry = new Registry();
    const m = new RekorMetrics({
      registry,
      sources: {
        queueDepth: async () => ({ graph: 1, edge: 2 }),
        offlineDepth: async () => ({ graph: 3, edge: 4 }),
        rejectedDepth: async () => ({ graph: 1, edge: 0 }),
        budgets: async () => [
          { tenantId: '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b', remaining: 10, utilization: 0.9 },
        ],
      },
    });
    m.submission('graph', 'created');
    m.latencySeconds('graph', 1);
    m.rejected('edge', 'not_escalated');
    m.error('graph', 'unreachable');
    m.edgeBundleTriggered('cvss');
    m.shardSwitch('https://log2025-1.example', 'https://log2026-1.example', 'frozen');
    m.rekorProbe(true, 'https://log2026-1.example');
    for (const [name, e] of Object.entries(EXPECTED)) {
      const metric = (await metricsJson(registry)).get(name)!;
      expect(metric.values.length).toBeGreaterThan(0);
      for (const v of metric.values) {
        const keys = Object.keys(v.labels).filter((k) => k !== 'le');
        expect([name, keys.sort()]).toEqual([name, [...e.labels].sort()]);
      }
    }
  });

  it('never touches the global default registry', async () => {
    const before = (await defaultRegistry.getMetricsAsJSON()).length;
    new RekorMetrics({ registry: new Registry() });
    expect((await defaultRegistry.getMetricsAsJSON()).length).toBe(before);
  });

  it('starts every known label combination at 0, so increase() sees the first event', async () => {
    const registry = new Registry();
    new RekorMetrics({ registry });
    const json = await metricsJson(registry);
    for (const tier of ['graph', 'edge']) {
      for (const status of SUBMISSION_STATUSES)
        expect(valueOf(json.get(METRIC_NAMES.submissionsTotal), { tier, status })).toBe(0);
      for (const reason of REJECTION_REASONS)
        expect(valueOf(json.get(METRIC_NAMES.submissionsRejectedTotal), { tier, reason })).toBe(0);
      for (const reason of ERROR_REASONS)
        expect(valueOf(json.get(METRIC_NAMES.submissionErrorsTotal), { tier, reason })).toBe(0);
    }
    for (const trigger of ['cvss', 'policy_gate', 'manual', 'other'])
      expect(valueOf(json.get(METRIC_NAMES.edgeBundleTriggersTotal), { trigger })).toBe(0);
  });
});

describe('RekorMetrics: recording', () => {
  it('counts outcomes, refusals, errors and triggers', async () => {
    const registry = new Registry();
    const m = new RekorMetrics({ registry });
    m.submission('graph', 'created');
    m.submission('graph', 'created');
    m.submission('edge', 'duplicate');
    m.rejected('graph', 'budget_exceeded');
    m.error('edge', 'timeout');
    m.edgeBundleTriggered('cvss', 'policy_gate');
    m.edgeBundleTriggered('manual');
    const json = await metricsJson(registry);
    expect(valueOf(json.get(METRIC_NAMES.submissionsTotal), { tier: 'graph', status: 'created' })).toBe(2);
    expect(valueOf(json.get(METRIC_NAMES.submissionsTotal), { tier: 'edge', status: 'duplicate' })).toBe(1);
    expect(
      valueOf(json.get(METRIC_NAMES.submissionsRejectedTotal), { tier: 'graph', reason: 'budget_exceeded' }),
    ).toBe(1);
    expect(valueOf(json.get(METRIC_NAMES.submissionErrorsTotal), { tier: 'edge', reason: 'timeout' })).toBe(
      1,
    );
    for (const trigger of ['cvss', 'policy_gate', 'manual'])
      expect(valueOf(json.get(METRIC_NAMES.edgeBundleTriggersTotal), { trigger })).toBe(1);
  });

  it('observes latency in seconds into buckets spanning 0.05 s to hours', async () => {
    const registry = new Registry();
    const m = new RekorMetrics({ registry });
    m.latencySeconds('graph', 0.2);
    m.latencySince('graph', new Date(0), new Date(2 * 3600 * 1000)); // 2 h
    m.latencySince('edge', 10_000, 5_000); // clock skew: counts as 0
    const h = (await metricsJson(registry)).get(METRIC_NAMES.submissionLatencySeconds)!;
    const bucketLes = vals(h)
      .filter((v) => v.metricName?.endsWith('_bucket') && v.labels.tier === 'graph')
      .map((v) => v.labels.le);
    expect(bucketLes).toEqual([...LATENCY_BUCKETS, '+Inf']);
    expect(LATENCY_BUCKETS[0]).toBe(0.05);
    expect(LATENCY_BUCKETS).toContain(3600);
    const graph = (suffix: string, le?: number) =>
      vals(h).find(
        (v) =>
          v.metricName === `${METRIC_NAMES.submissionLatencySeconds}${suffix}` &&
          v.labels.tier === 'graph' &&
          (le === undefined || v.labels.le === le),
      )?.value;
    expect(graph('_count')).toBe(2);
    expect(graph('_sum')).toBeCloseTo(7200.2);
    expect(graph('_bucket', 0.25)).toBe(1);
    expect(graph('_bucket', 3600)).toBe(1);
    expect(graph('_bucket', 7200)).toBe(2);
    const edgeSum = vals(h).find((v) => v.metricName?.endsWith('_sum') && v.labels.tier === 'edge')?.value;
    expect(edgeSum).toBe(0);
  });
});

describe('RekorMetrics: label validation', () => {
  it('records an unknown status, reason or trigger as other', async () => {
    const registry = new Registry();
    const m = new RekorMetrics({ registry });
    for (let i = 0; i < 50; i++) {
      m.submission('graph', `status-${i}`);
      m.rejected('graph', `reason-${i}`);
      m.error('edge', `boom-${i}`);
      m.edgeBundleTriggered(`trigger-${i}`);
    }
    const json = await metricsJson(registry);
    expect(valueOf(json.get(METRIC_NAMES.submissionsTotal), { tier: 'graph', status: 'other' })).toBe(50);
    expect(valueOf(json.get(METRIC_NAMES.submissionsRejectedTotal), { tier: 'graph', reason: 'other' })).toBe(
      50,
    );
    expect(valueOf(json.get(METRIC_NAMES.submissionErrorsTotal), { tier: 'edge', reason: 'other' })).toBe(50);
    expect(valueOf(json.get(METRIC_NAMES.edgeBundleTriggersTotal), { trigger: 'other' })).toBe(50);
    // No new series: only the pre-initialised combinations exist.
    expect(json.get(METRIC_NAMES.submissionsTotal)!.values).toHaveLength(2 * SUBMISSION_STATUSES.length);
    expect(json.get(METRIC_NAMES.submissionsRejectedTotal)!.values).toHaveLength(
      2 * REJECTION_REASONS.length,
    );
    expect(json.get(METRIC_NAMES.submissionErrorsTotal)!.values).toHaveLength(2 * ERROR_REASONS.length);
    expect(json.get(METRIC_NAMES.edgeBundleTriggersTotal)!.values).toHaveLength(4);
  });

  it('refuses a tier other than graph or edge', () => {
    const m = new RekorMetrics({ registry: new Registry() });
    const bad = 'Graph' as unknown as 'graph';
    expect(codeOf(() => m.submission(bad, 'created'))).toBe('INVALID_LABEL');
    expect(codeOf(() => m.rejected(bad, 'budget_exceeded'))).toBe('INVALID_LABEL');
    expect(codeOf(() => m.error(bad, 'timeout'))).toBe('INVALID_LABEL');
    expect(codeOf(() => m.latencySeconds(bad, 1))).toBe('INVALID_LABEL');
  });
});

describe('RekorMetrics: options', () => {
  it('refuses bad options, naming the option', () => {
    const registry = new Registry();
    expect(codeOf(() => new RekorMetrics({ registry: undefined as unknown as Registry }))).toBe(
      'INVALID_OPTION',
    );
    expect(codeOf(() => new RekorMetrics({ registry: defaultRegistry }))).toBe('INVALID_OPTION');
    expect(codeOf(() => new RekorMetrics({ registry, maxTenantSeries: 0 }))).toBe('INVALID_OPTION');
    expect(codeOf(() => new RekorMetrics({ registry, maxTenantSeries: 1.5 }))).toBe('INVALID_OPTION');
    expect(codeOf(() => new RekorMetrics({ registry, sourceTimeoutMs: -1 }))).toBe('INVALID_OPTION');
    expect(codeOf(() => new RekorMetrics({ registry, latencyBuckets: [1, 1] }))).toBe('INVALID_OPTION');
    expect(codeOf(() => new RekorMetrics({ registry, latencyBuckets: [] }))).toBe('INVALID_OPTION');
  });

  it('refuses a registry that already holds the metrics', () => {
    const registry = new Registry();
    new RekorMetrics({ registry });
    expect(codeOf(() => new RekorMetrics({ registry }))).toBe('ALREADY_REGISTERED');
  });

  it('takes custom latency buckets', async () => {
    const registry = new Registry();
    new RekorMetrics({ registry, latencyBuckets: [1, 60] });
    const h = (await metricsJson(registry)).get(METRIC_NAMES.submissionLatencySeconds)!;
    const les = vals(h)
      .filter((v) => v.metricName?.endsWith('_bucket') && v.labels.tier === 'edge')
      .map((v) => v.labels.le);
    expect(les).toEqual([1, 60, '+Inf']);
  });
});

describe('issue 16: tenant display names on the budget series', () => {
  const NAMED = '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b';
  const UNNAMED = '0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d';

  it('a named tenant carries tenant_name next to tenant; others only tenant', async () => {
    const registry = new Registry();
    new RekorMetrics({
      registry,
      tenantNames: { [NAMED]: 'acme' },
      sources: {
        budgets: async () => [
          { tenantId: NAMED, remaining: 10, utilization: 0.9 },
          { tenantId: UNNAMED, remaining: 50, utilization: 0.5 },
        ],
      },
    });
    const text = await registry.metrics();
    expect(text).toContain(`attestor_rekor_budget_utilization{tenant="${NAMED}",tenant_name="acme"} 0.9`);
    expect(text).toContain(`attestor_rekor_budget_remaining{tenant="${UNNAMED}"} 50`);
  });

  it('names that are not strings are refused with INVALID_OPTION', () => {
    expect(
      () => new RekorMetrics({ registry: new Registry(), tenantNames: { [NAMED]: 1 } as never }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});

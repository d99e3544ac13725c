import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { RekorMetrics } from '@rekor-budget/metrics';

/**
 * The Grafana dashboard and the alert rules refer to the metrics of this
 * package by name: every name they use must exist, and every metric must be
 * on the dashboard.
 */
const DEPLOY = join(resolve(__dirname, '../../..'), 'deploy');

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown; current?: { value?: unknown } }> };
}

const dashboard = JSON.parse(
  readFileSync(join(DEPLOY, 'grafana/stellaops-attestor-rekor.json'), 'utf8'),
) as Dashboard;
const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

async function packageMetrics(): Promise<Map<string, string>> {
  const registry = new Registry();
  new RekorMetrics({ registry });
  return new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
}

/** Metric names used in PromQL expressions, histogram series folded to their metric. */
function metricNames(exprs: string[], types: Map<string, string>): Set<string> {
  const names = new Set<string>();
  for (const expr of exprs) {
    for (const [name] of expr.matchAll(/\battestor_rekor_[a-z0-9_]+/g)) {
      const suffix = HISTOGRAM_SUFFIXES.find((s) => name.endsWith(s));
      const base = suffix ? name.slice(0, -suffix.length) : '';
      names.add(suffix && types.get(base) === 'histogram' ? base : name);
    }
  }
  return names;
}

describe('Grafana dashboard', () => {
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));

  it('is StellaOps Attestor: Rekor, uid stellaops-attestor-rekor, schemaVersion >= 38', () => {
    expect(dashboard.uid).toBe('stellaops-attestor-rekor');
    expect(dashboard.title).toBe('StellaOps Attestor: Rekor');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(38);
  });

  it('queries Prometheus through the DS_PROMETHEUS variable, defaulting to the provisioned uid', () => {
    const ds = dashboard.templating.list.find((v) => v.name === 'DS_PROMETHEUS');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus', current: { value: 'prometheus' } });
    const provisioned = parse(
      readFileSync(join(DEPLOY, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
    ) as {
      datasources: Array<{ uid: string; type: string }>;
    };
    expect(provisioned.datasources).toContainEqual(
      expect.objectContaining({ uid: 'prometheus', type: 'prometheus' }),
    );
    for (const p of panels) {
      expect([p.title, p.datasource]).toEqual([p.title, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }]);
      for (const t of p.targets ?? []) expect(t.datasource?.uid).toBe('${DS_PROMETHEUS}');
    }
  });

  it('has a tenant variable used by the budget panels', () => {
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(expect.arrayContaining(['tenant', 'tier']));
    const budget = exprs.filter((e) => /attestor_rekor_budget_/.test(e));
    expect(budget.length).toBeGreaterThanOrEqual(2);
    for (const e of budget) expect(e).toContain('tenant=~"$tenant"');
  });

  it('has the panels operators need', () => {
    const find = (re: RegExp) => exprs.filter((e) => re.test(e));
    expect(find(/rate\(attestor_rekor_submissions_total/).some((e) => /by \(tier, status\)/.test(e))).toBe(
      true,
    );
    for (const q of ['0.5', '0.95', '0.99'])
      expect(
        find(
          new RegExp(
            `histogram_quantile\\(${q.replace('.', '\\.')}, .*attestor_rekor_submission_latency_seconds_bucket`,
          ),
        ),
      ).toHaveLength(1);
    expect(find(/by \(tier, reason\) \(rate\(attestor_rekor_submissions_rejected_total/)).toHaveLength(1);
    expect(find(/by \(tier, reason\) \(rate\(attestor_rekor_submission_errors_total/)).toHaveLength(1);
    expect(find(/by \(trigger\) .*attestor_rekor_edge_bundle_triggers_total/)).toHaveLength(1);
  });

  it('gives every panel a unique id and a title', () => {
    const ids = allPanels(dashboard.panels).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) expect(p.title).toBeTruthy();
  });

  it('references only metrics of the package, and shows every one of them', async () => {
    const types = await packageMetrics();
    const used = metricNames(exprs, types);
    expect([...used].filter((n) => !types.has(n))).toEqual([]);
    expect([...types.keys()].filter((n) => !used.has(n))).toEqual([]);
  });
});

describe('Prometheus alert rules', () => {
  const rules = parse(readFileSync(join(DEPLOY, 'prometheus/alerts.yml'), 'utf8')) as {
    groups: Array<{
      rules: Array<{
        alert: string;
        expr: string;
        for?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
      }>;
    }>;
  };
  const alerts = rules.groups.flatMap((g) => g.rules);

  it('reference only metrics of the package', async () => {
    const types = await packageMetrics();
    const used = metricNames(
      alerts.map((a) => a.expr),
      types,
    );
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((n) => !types.has(n))).toEqual([]);
  });

  it('have for, severity, summary, description and a runbook section that exists', () => {
    const runbook = readFileSync(join(DEPLOY, 'RUNBOOK.md'), 'utf8');
    const anchors = new Set(
      [...runbook.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    expect(alerts.map((a) => a.alert).sort()).toEqual([
      'RekorBudgetUtilizationHigh',
      'RekorOfflineQueueGrowing',
      'RekorProbeFailing',
      'RekorQueueDepthHigh',
      'RekorRejectionsHigh',
      'RekorSubmissionsKeptRejected',
      'RekorUnreachable',
    ]);
    for (const a of alerts) {
      expect([a.alert, typeof a.for]).toEqual([a.alert, 'string']);
      expect([a.alert, a.labels?.severity]).toEqual([
        a.alert,
        expect.stringMatching(/^(page|warning|info)$/),
      ]);
      expect(a.annotations?.summary).toBeTruthy();
      expect(a.annotations?.description).toBeTruthy();
      const m = /^deploy\/RUNBOOK\.md#([a-z0-9-]+)$/.exec(a.annotations?.runbook ?? '');
      expect([a.alert, m?.[1] !== undefined && anchors.has(m[1])]).toEqual([a.alert, true]);
    }
  });

  it('encode the specification thresholds', () => {
    const expr = (name: string) => alerts.find((a) => a.alert === name)!.expr;
    expect(expr('RekorQueueDepthHigh')).toMatch(/attestor_rekor_queue_depth\) > 1000$/);
    expect(expr('RekorRejectionsHigh')).toBe(
      'sum by (tier) (increase(attestor_rekor_submissions_rejected_total[1h])) > 100',
    );
    expect(expr('RekorBudgetUtilizationHigh')).toMatch(/attestor_rekor_budget_utilization\) > 0\.8$/);
    expect(alerts.find((a) => a.alert === 'RekorQueueDepthHigh')!.labels?.severity).toBe('page');
  });
});

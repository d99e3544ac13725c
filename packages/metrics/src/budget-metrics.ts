import { isTenantId } from '@rekor-budget/core';
import { Gauge, type Registry } from 'prom-client';
import { METRIC_NAMES } from './names';
import { register } from './register';
import { count, type ScrapeSource, type TenantBudget } from './sources';

/**
 * The tenants to expose: valid entries only, at most `max`, those with the
 * highest utilization first (then the least remaining, then tenant id, so
 * the choice is stable between scrapes).
 */
export function selectTenants(
  budgets: readonly TenantBudget[],
  max: number,
  onInvalid: (message: string) => void,
): TenantBudget[] {
  const valid: TenantBudget[] = [];
  const seen = new Set<string>();
  let invalid = 0;
  for (const b of budgets) {
    const remaining = count(b?.remaining);
    const utilization = count(b?.utilization);
    if (!isTenantId(b?.tenantId) || remaining === undefined || utilization === undefined) {
      invalid++;
      continue;
    }
    const tenantId = b.tenantId.toLowerCase();
    if (seen.has(tenantId)) continue;
    seen.add(tenantId);
    valid.push({ tenantId, remaining, utilization: Math.min(1, utilization) });
  }
  if (invalid > 0)
    onInvalid(`${invalid} budget entries without a tenant UUID or with non-numeric values were skipped`);
  valid.sort(
    (a, b) =>
      b.utilization - a.utilization ||
      a.remaining - b.remaining ||
      (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0),
  );
  return valid.slice(0, max);
}

/**
 * `attestor_rekor_budget_remaining{tenant[,tenant_name]}` and
 * `attestor_rekor_budget_utilization{tenant[,tenant_name]}`, read at scrape time from one
 * call of the budgets source and bounded to `maxTenantSeries` tenants.
 */
export class BudgetMetrics {
  constructor(
    registry: Registry,
    source: ScrapeSource<TenantBudget[]> | undefined,
    maxTenantSeries: number,
    /** Display names by lower-case tenant UUID: a named tenant's series also carry `tenant_name`. */
    tenantNames: Readonly<Record<string, string>> = {},
  ) {
    const labels = (tenantId: string) => {
      const name = tenantNames[tenantId];
      return name === undefined ? { tenant: tenantId } : { tenant: tenantId, tenant_name: name };
    };
    const compute = async (): Promise<TenantBudget[]> => {
      if (!source) return [];
      const budgets = await source.read();
      if (!budgets) return [];
      if (!Array.isArray(budgets)) {
        source.fail('did not return an array');
        return [];
      }
      return selectTenants(budgets, maxTenantSeries, (m) => source.fail(m));
    };
    // Both gauges are collected in the same scrape: share one selection.
    let pending: Promise<TenantBudget[]> | undefined;
    const selected = (): Promise<TenantBudget[]> =>
      (pending ??= compute().finally(() => {
        pending = undefined;
      }));

    register(
      registry,
      METRIC_NAMES.budgetRemaining,
      () =>
        new Gauge({
          name: METRIC_NAMES.budgetRemaining,
          help: 'Submissions left in the tenant hourly budget (Tier 1); at most maxTenantSeries tenants, the most utilized.',
          labelNames: ['tenant', 'tenant_name'] as const,
          registers: [registry],
          async collect() {
            const tenants = await selected();
            this.reset();
            for (const t of tenants) this.set(labels(t.tenantId), t.remaining);
          },
        }),
    );
    register(
      registry,
      METRIC_NAMES.budgetUtilization,
      () =>
        new Gauge({
          name: METRIC_NAMES.budgetUtilization,
          help: 'Used / limit of the tenant fullest budget window (Tier 1 hour and burst, Tier 2 day), 0..1; at most maxTenantSeries tenants, the most utilized.',
          labelNames: ['tenant', 'tenant_name'] as const,
          registers: [registry],
          async collect() {
            const tenants = await selected();
            this.reset();
            for (const t of tenants) this.set(labels(t.tenantId), t.utilization);
          },
        }),
    );
  }
}

import type { EdgeTrigger } from '@rekor-budget/core';
import { Counter, type Registry } from 'prom-client';
import { TRIGGER_LABELS, triggerLabel } from './labels';
import { METRIC_NAMES } from './names';
import { register } from './register';

/** `attestor_rekor_edge_bundle_triggers_total{trigger}`: why edge bundles were escalated. */
export class EdgeTriggerMetrics {
  private readonly triggers: Counter<'trigger'>;

  constructor(registry: Registry) {
    this.triggers = register(
      registry,
      METRIC_NAMES.edgeBundleTriggersTotal,
      () =>
        new Counter({
          name: METRIC_NAMES.edgeBundleTriggersTotal,
          help: 'Edge-bundle escalations by trigger (cvss, policy_gate, manual).',
          labelNames: ['trigger'] as const,
          registers: [registry],
        }),
    );
    for (const trigger of TRIGGER_LABELS) this.triggers.inc({ trigger }, 0);
  }

  /** Count each trigger that fired for one edge bundle; an unknown trigger counts as `other`. */
  fired(...triggers: readonly (EdgeTrigger | string)[]): void {
    for (const t of triggers) this.triggers.inc({ trigger: triggerLabel(t) });
  }
}

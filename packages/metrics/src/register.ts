import type { Registry } from 'prom-client';
import { MetricsError } from './errors';
import type { MetricName } from './names';

/** Create metric `name` on `registry`, refusing a registry that already holds it. */
export function register<M>(registry: Registry, name: MetricName, create: () => M): M {
  if (registry.getSingleMetric(name)) {
    throw new MetricsError(
      'ALREADY_REGISTERED',
      `metric ${name} is already registered: create one RekorMetrics per registry, or pass a new Registry`,
    );
  }
  return create();
}

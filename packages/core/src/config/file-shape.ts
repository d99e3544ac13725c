import { formatDuration } from '../duration';
import { redisFileShape } from './redis-topology';
import type { RekorConfig } from './schema';

/** The keys of `attestor.rekor` as a file writes them (durations as "hh:mm:ss"). */
export type RekorFileConfig = Record<string, unknown>;

/**
 * A validated configuration in the file's own keys and units: the inverse of
 * the schema's transform, so the result is a valid `attestor.rekor` section
 * that loads back to the same configuration. Keys left unset stay out.
 */
export function toFileConfig(c: RekorConfig): RekorFileConfig {
  const d = formatDuration;
  const defined = <T extends object>(o: T): Partial<T> =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  const t = c.edgeBundles.triggers;
  return {
    enabled: c.enabled,
    serverUrl: c.serverUrl,
    tier: c.tier,
    budget: {
      hourlyLimit: c.budget.hourlyLimit,
      burstLimit: c.budget.burstLimit,
      burstWindow: d(c.budget.burstWindowMs),
      edgeBundleDailyLimit: c.budget.edgeBundleDailyLimit,
    },
    retry: {
      maxAttempts: c.retry.maxAttempts,
      initialDelay: d(c.retry.initialDelayMs),
      maxDelay: d(c.retry.maxDelayMs),
      backoffMultiplier: c.retry.backoffMultiplier,
    },
    offline: {
      queueEnabled: c.offline.queueEnabled,
      maxQueueSize: c.offline.maxQueueSize,
      drainOnConnect: c.offline.drainOnConnect,
      airGapped: c.offline.airGapped,
      probeInterval: d(c.offline.probeIntervalMs),
    },
    edgeBundles: {
      enabled: c.edgeBundles.enabled,
      triggers: [
        ...(t.cvssThreshold === undefined ? [] : [{ cvssThreshold: t.cvssThreshold }]),
        ...(t.policyGate === undefined ? [] : [{ policyGate: t.policyGate }]),
        ...(t.manualEscalation ? [{ manualEscalation: true }] : []),
      ],
    },
    apiVersion: c.apiVersion,
    entryKind: c.entryKind,
    requestTimeout: d(c.requestTimeoutMs),
    v2WriteTimeout: d(c.v2WriteTimeoutMs),
    ...defined({ trustedRoot: c.trustedRoot, signingConfig: c.signingConfig }),
    timestampAuthority: defined({ ...c.timestampAuthority }),
    maxPayloadBytes: c.maxPayloadBytes,
    pace: { max: c.pace.max, window: d(c.pace.windowMs) },
    redis: {
      ...redisFileShape(c.redis),
      keyPrefix: c.redis.keyPrefix,
      requireDurable: c.redis.requireDurable,
    },
    database: { url: c.database.url },
    signing: defined({ ...c.signing }),
    metrics: defined({ ...c.metrics }),
    dashboard: defined({ ...c.dashboard }),
    ...(Object.keys(c.tenants).length > 0 ? { tenants: { ...c.tenants } } : {}),
  };
}

import type { TierMode } from '../domain';

/** One configured Tier 2 trigger set (each key present only if configured). */
export interface EdgeTriggerConfig {
  /** A finding at or above this CVSS score, and reachable, escalates. */
  cvssThreshold?: number;
  /** A failed policy gate that carries this flag escalates. */
  policyGate?: 'require_proof';
  /** A security team's explicit request escalates. */
  manualEscalation: boolean;
}

/**
 * `attestor.rekor`, validated, with defaults applied and durations in
 * milliseconds. Packages receive this object; only the edge of an app loads it.
 */
export interface RekorConfig {
  enabled: boolean;
  serverUrl: string;
  /** Rekor API: 1 (`/api/v1/log/entries`) or 2 (`/api/v2/log/entries`). @defaultValue 1 */
  apiVersion: 1 | 2;
  /** Rekor v1 entry kind for DSSE envelopes. @defaultValue 'dsse' */
  entryKind: 'dsse' | 'intoto';
  tier: TierMode;
  /** Timeout of one HTTP request to Rekor. @defaultValue 30 000 */
  requestTimeoutMs: number;
  /** Largest statement payload accepted by the producer, per submission. @defaultValue 102 400 */
  maxPayloadBytes: number;
  /**
   * Global pace toward Rekor across all tenants and workers of a tier (BullMQ
   * limiter): at most `max` requests per `windowMs`; `max: 0` means none.
   */
  pace: { max: number; windowMs: number };
  budget: {
    hourlyLimit: number;
    burstLimit: number;
    burstWindowMs: number;
    /** Derived: `floor(burstLimit x burstWindow / 1h)`, the cap per burst window. */
    burstWindowLimit: number;
    /** Tier 2 cap per rolling 24 h (`budget.edgeBundleDailyLimit` or `edgeBundles.dailyLimit`). */
    edgeBundleDailyLimit: number;
  };
  retry: {
    maxAttempts: number;
    initialDelayMs: number;
    maxDelayMs: number;
    backoffMultiplier: number;
  };
  offline: {
    queueEnabled: boolean;
    maxQueueSize: number;
    drainOnConnect: boolean;
    /** Sign and store only; never contact Rekor. @defaultValue false */
    airGapped: boolean;
    /** How often the drain worker probes Rekor. @defaultValue 15 000 */
    probeIntervalMs: number;
  };
  edgeBundles: {
    enabled: boolean;
    dailyLimit: number;
    triggers: EdgeTriggerConfig;
  };
  redis: { url: string; keyPrefix: string };
  database: { url: string };
  signing: { keyPath?: string; keyHint?: string };
  metrics: { port: number };
  dashboard: { port: number; user?: string; password?: string; readOnly: boolean };
}

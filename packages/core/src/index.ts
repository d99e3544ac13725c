export { TIERS, TIER_MODES, EDGE_TRIGGERS, isTier, isTenantId, isSha256Digest } from './domain';
export type { Tier, TierMode, TenantId, EdgeTrigger, Sha256Digest, Receipt } from './domain';

export { RekorBudgetError, ConfigError, InputError } from './errors';
export type { ConfigIssue, ConfigErrorCode, InputErrorCode } from './errors';

export { parseDuration, formatDuration } from './duration';

export { loadConfig, parseConfigText, parseConfigObject, ENV_OVERRIDES } from './config/load';
export type { LoadConfigOptions, LoadedConfig, Env } from './config/load';
export type { RekorConfig, EdgeTriggerConfig } from './config/schema';

export { SECOND_MS, MINUTE_MS, HOUR_MS, DAY_MS } from './time';

export { createRedisKeys } from './keys';
export type { RedisKeys, BudgetWindowName } from './keys';

export {
  validateGraphInput,
  validateEdgeInput,
  canonicalJson,
  contentDigest,
  firedTriggers,
} from './submission';
export type {
  ArtifactRef,
  ScannerRef,
  GraphAttestationInput,
  EdgeBundleInput,
  Finding,
  CallEdge,
  Escalation,
  Submission,
} from './submission';

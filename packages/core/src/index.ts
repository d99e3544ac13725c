export { TIERS, TIER_MODES, EDGE_TRIGGERS, isTier, isTenantId, isSha256Digest } from './domain';
export type { Tier, TierMode, TenantId, EdgeTrigger, Sha256Digest } from './domain';
export { receiptToJson } from './envelope';
export type { KeyAlgorithm, DsseEnvelopeJson, SignedEnvelope, Receipt, ReceiptJson } from './envelope';

export { silentLogger, errorFields, createRepeatGate } from './logger';
export type { Logger, LogFn, RepeatVerdict } from './logger';

export { RekorBudgetError, ConfigError, InputError, SubmissionError } from './errors';
export type { ConfigIssue, ConfigErrorCode, InputErrorCode, SubmissionErrorCode } from './errors';

export {
  redactUrl,
  redactText,
  redactValue,
  echo,
  truncate,
  isSecretKey,
  MAX_ECHO_CHARS,
  REDACTED,
} from './redact';

export { parseDuration, formatDuration } from './duration';
export { listenFailureText } from './listen';
export { SECOND_MS, MINUTE_MS, HOUR_MS, DAY_MS, parseRfc3339Time, parseRfc3339Date, within } from './time';

export { loadConfig, parseConfigText, parseConfigObject, ENV_OVERRIDES } from './config/load';
export type { LoadConfigOptions, LoadedConfig, Env } from './config/load';
export type { RekorConfig, EdgeTriggerConfig } from './config/schema';
export { MAX_DURATION_MS, MIN_TIMER_MS } from './config/schema';
export { toFileConfig } from './config/file-shape';
export type { RekorFileConfig } from './config/file-shape';

export { createRedisKeys } from './keys';
export type { RedisKeys, RedisKeysOptions, BudgetWindowName } from './keys';

export {
  describeRedis,
  redisLocationKey,
  redisEnv,
  formatRedisNode,
  DEFAULT_REDIS_URL,
} from './config/redis-topology';
export type { RedisTopologyConfig, RedisTopology, RedisNode } from './config/redis-topology';
export { awaitReplicas, createRedisConnection, REPLICA_WAIT_MS, redisMasters } from './redis-connection';
export type { RedisConnection, RedisConnectionOptions } from './redis-connection';

export { loadLuaScript, defineLuaScripts } from './lua';
export type { LuaScriptHost, LuaScriptCommand, LuaScriptsOptions, LuaScriptErrorCode } from './lua';

export {
  validateGraphInput,
  validateEdgeInput,
  canonicalJson,
  contentDigest,
  contentIdentity,
  firedTriggers,
} from './submission';
export { checkSubmission } from './submission-check';
export type { CheckSubmissionOptions } from './submission-check';
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

export {
  buildStatement,
  statementPayload,
  checkPayloadSize,
  STATEMENT_OVERHEAD_MAX,
  STATEMENT_TYPE,
  IN_TOTO_PAYLOAD_TYPE,
  PREDICATE_TYPES,
} from './statement';
export type { Statement, StatementSubject, GraphPredicate, EdgeBundlePredicate } from './statement';

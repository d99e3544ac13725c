export { RekorError } from './error';
export type { RekorErrorCode, RekorErrorOptions } from './error';

// the statement is core's (the producer bounds its size); re-exported for signing callers
export {
  buildStatement,
  statementPayload,
  STATEMENT_TYPE,
  IN_TOTO_PAYLOAD_TYPE,
  PREDICATE_TYPES,
} from '@rekor-budget/core';
export type { Statement, StatementSubject, GraphPredicate, EdgeBundlePredicate } from '@rekor-budget/core';

export { createSigner, loadSigner, keyHintOf, writeKeyPair } from './signer';
export type { Signer, LoadSignerOptions, KeyPairFiles } from './signer';

export { signEnvelope, assertSignedEnvelope, checkEnvelopeOf, DEFAULT_MAX_PAYLOAD_BYTES } from './envelope';
export type { SignEnvelopeOptions } from './envelope';

export { createRekorClient, clientOptionsFromConfig } from './client';
export { maxRequestBytes } from './entries';
export type { RekorClient, RekorClientOptions } from './client';
export type { RekorLogInfo } from './external/rekor';
export { DEFAULT_PROBE_TIMEOUT_MS } from './probe';
export type { RekorProbeOptions, RekorProbeResult, TimestampProbeResult } from './probe';

export { parseRetryAfter, SUBMIT_OUTCOME_KINDS } from './outcome';
export type { SubmitOutcome, SubmitOutcomeKind, LogEntryRef } from './outcome';

export { receiptFromOutcome } from './receipts';

export { verifyBundle } from './verify';

export { createShardedClient } from './sharded-client';
export type { ShardedClientOptions } from './sharded-client';
export { parseSigningConfig, selectServices, SIGNING_CONFIG_MEDIA_TYPE } from './signing-config';
export type { SigningConfig, SigningService } from './signing-config';
export { openCheckpoint, trustedLogs } from './checkpoint';
export type { Checkpoint, TrustedLog } from './checkpoint';
export { MIN_V2_WRITE_TIMEOUT_MS } from './client';
export type { VerifyBundleOptions, VerifyBundleResult } from './verify';

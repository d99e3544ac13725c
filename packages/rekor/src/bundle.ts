import { createHash } from 'node:crypto';
import {
  bundleToJSON,
  toDSSEBundle,
  type SerializedBundle,
  type TransparencyLogEntry as TLogEntry,
} from '@sigstore/bundle';
import { TransparencyLogEntry } from '@sigstore/protobuf-specs';
import type { SignedEnvelope } from '@rekor-budget/core';
import { RekorError } from './error';
import type { RekorV1Entry } from './external/rekor';
import type { LogEntryRef } from './outcome';

/** The answer of a log that could not be read: `INVALID_RESPONSE`. */
function invalid(status: number | undefined, problem: string, cause?: unknown): RekorError {
  const answered = status === undefined ? 'answered' : `answered HTTP ${status}`;
  return new RekorError(
    'INVALID_RESPONSE',
    `the log ${answered} with an entry that cannot be read: ${problem}`,
    {
      status,
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/** The `kind` and `apiVersion` of a v1 entry's body (base64 canonical JSON). */
function kindVersionOf(body: string, status: number | undefined): { kind: string; version: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64').toString('utf8'));
  } catch (cause) {
    throw invalid(status, 'its body is not base64 JSON', cause);
  }
  const { kind, apiVersion } = (parsed ?? {}) as { kind?: unknown; apiVersion?: unknown };
  if (typeof kind !== 'string' || typeof apiVersion !== 'string') {
    throw invalid(status, 'its body has no kind and apiVersion');
  }
  return { kind, version: apiVersion };
}

/**
 * A Rekor v1 entry as a sigstore bundle `TransparencyLogEntry`. A body that
 * is not an entry body throws `INVALID_RESPONSE` (with `status`, the answer's).
 */
export function tlogEntryFromV1(entry: RekorV1Entry, status?: number): TLogEntry {
  const kindVersion = kindVersionOf(entry.body, status);
  const set = entry.verification?.signedEntryTimestamp;
  const proof = entry.verification?.inclusionProof;
  return {
    logIndex: String(entry.logIndex),
    logId: { keyId: Buffer.from(entry.logID, 'hex') },
    integratedTime: String(entry.integratedTime),
    kindVersion,
    inclusionPromise: set ? { signedEntryTimestamp: Buffer.from(set, 'base64') } : undefined,
    inclusionProof: proof
      ? {
          logIndex: String(proof.logIndex),
          treeSize: String(proof.treeSize),
          rootHash: Buffer.from(proof.rootHash, 'hex'),
          hashes: proof.hashes.map((h) => Buffer.from(h, 'hex')),
          checkpoint: { envelope: proof.checkpoint },
        }
      : undefined,
    canonicalizedBody: Buffer.from(entry.body, 'base64'),
  };
}

/**
 * A Rekor v2 answer (protobuf JSON) as a `TransparencyLogEntry`. An answer
 * that is not one throws `INVALID_RESPONSE` (with `status`, the answer's).
 */
export function tlogEntryFromV2(body: unknown, status?: number): TLogEntry {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid(status, 'the body is not a JSON object');
  }
  let entry: TransparencyLogEntry;
  try {
    entry = TransparencyLogEntry.fromJSON(body);
  } catch (cause) {
    throw invalid(status, 'the body is not a TransparencyLogEntry', cause);
  }
  if (entry.logId === undefined || entry.kindVersion === undefined) {
    throw invalid(status, 'it has no logId or kindVersion');
  }
  if (entry.canonicalizedBody.length === 0) throw invalid(status, 'it has no canonicalizedBody');
  return { ...entry, logId: entry.logId, kindVersion: entry.kindVersion };
}

/** The entry reference of a bundle's log entry. */
export function entryRef(tlog: TLogEntry, uuid: string | undefined, receivedAt: number): LogEntryRef {
  const integrated = Number(tlog.integratedTime);
  return {
    uuid:
      uuid ??
      createHash('sha256')
        .update(Buffer.concat([Buffer.from([0]), tlog.canonicalizedBody]))
        .digest('hex'),
    logIndex: Number(tlog.logIndex),
    integratedTime: integrated > 0 ? integrated : Math.floor(receivedAt / 1000),
    logId: tlog.logId ? Buffer.from(tlog.logId.keyId).toString('hex') : '',
  };
}

/** The sigstore bundle (v0.3, public key hint) of a signed envelope and its log entry, as JSON. */
export function toBundleJson(
  signed: SignedEnvelope,
  tlog: TLogEntry,
  rfc3161Timestamps: readonly Buffer[] = [],
): SerializedBundle {
  const [sig] = signed.envelope.signatures;
  const bundle = toDSSEBundle({
    artifact: Buffer.from(signed.envelope.payload, 'base64'),
    artifactType: signed.envelope.payloadType,
    signature: Buffer.from(sig.sig, 'base64'),
    keyHint: signed.keyHint,
  });
  bundle.verificationMaterial.tlogEntries = [tlog];
  if (rfc3161Timestamps.length > 0) {
    bundle.verificationMaterial.timestampVerificationData = {
      rfc3161Timestamps: rfc3161Timestamps.map((signedTimestamp) => ({ signedTimestamp })),
    };
  }
  return bundleToJSON(bundle);
}

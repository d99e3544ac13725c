import { createHash } from 'node:crypto';
import {
  bundleToJSON,
  toDSSEBundle,
  type SerializedBundle,
  type TransparencyLogEntry as TLogEntry,
} from '@sigstore/bundle';
import { TransparencyLogEntry } from '@sigstore/protobuf-specs';
import type { SignedEnvelope } from '@rekor-budget/core';
import type { RekorV1Entry } from './external/rekor';
import type { LogEntryRef } from './outcome';

/** A Rekor v1 entry as a sigstore bundle `TransparencyLogEntry`. */
export function tlogEntryFromV1(entry: RekorV1Entry): TLogEntry {
  const body = JSON.parse(Buffer.from(entry.body, 'base64').toString('utf8')) as {
    kind: string;
    apiVersion: string;
  };
  const set = entry.verification?.signedEntryTimestamp;
  const proof = entry.verification?.inclusionProof;
  return {
    logIndex: String(entry.logIndex),
    logId: { keyId: Buffer.from(entry.logID, 'hex') },
    integratedTime: String(entry.integratedTime),
    kindVersion: { kind: body.kind, version: body.apiVersion },
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

/** A Rekor v2 answer (protobuf JSON) as a `TransparencyLogEntry`. */
export function tlogEntryFromV2(body: unknown): TLogEntry {
  const entry = TransparencyLogEntry.fromJSON(body);
  if (entry.logId === undefined || entry.kindVersion === undefined) {
    throw new Error('the log answered an entry without logId or kindVersion');
  }
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
export function toBundleJson(signed: SignedEnvelope, tlog: TLogEntry): SerializedBundle {
  const [sig] = signed.envelope.signatures;
  const bundle = toDSSEBundle({
    artifact: Buffer.from(signed.envelope.payload, 'base64'),
    artifactType: signed.envelope.payloadType,
    signature: Buffer.from(sig.sig, 'base64'),
    keyHint: signed.keyHint,
  });
  bundle.verificationMaterial.tlogEntries = [tlog];
  return bundleToJSON(bundle);
}

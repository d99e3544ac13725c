import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { json } from '@sigstore/core';
import { firstVerifying, pae } from '../crypto/public-key';
import { RekorLocalError, badRequest } from '../errors';
import { array, base64, object, string } from './fields';
import {
  atMost,
  checkKeyStrength,
  distinctKeys,
  distinctSignatures,
  MAX_SIGNATURES,
  MAX_VERIFIERS,
} from './limits';
import type { CanonicalEntry } from './types';

/**
 * Rekor v2 `dsseRequestV002`: `{envelope: {payload, payloadType, signatures:
 * [{sig, keyid}]}, verifiers: [{publicKey|x509Certificate: {rawBytes},
 * keyDetails}]}`. The log stores `dsse` 0.0.2: the payload hash and each
 * signature with its verifier. A verifier's `x509Certificate.rawBytes` may
 * hold a DER certificate or, as @sigstore/sign sends for key signers, a DER
 * public key; the stored verifier says which it was.
 */
export async function canonicalizeDsseV2(input: unknown): Promise<CanonicalEntry> {
  const request = object(object(input, 'request').dsseRequestV002, 'dsseRequestV002');
  const envelope = object(request.envelope, 'dsseRequestV002.envelope');
  const payloadType = string(envelope.payloadType, 'envelope.payloadType');
  const payload = base64(envelope.payload, 'envelope.payload');
  const verifierPath = (i: number) => `dsseRequestV002.verifiers[${i}]`;
  const verifiers = atMost(
    array(request.verifiers, 'dsseRequestV002.verifiers'),
    MAX_VERIFIERS,
    'dsseRequestV002.verifiers',
  ).map((v, i) => parseVerifierV2(v, verifierPath(i)));
  distinctKeys(
    verifiers.map((v) => v.key),
    verifierPath,
  );
  const message = pae(payloadType, payload);
  const sigPath = (i: number) => `envelope.signatures[${i}]`;
  const contents = atMost(
    array(envelope.signatures, 'envelope.signatures'),
    MAX_SIGNATURES,
    'envelope.signatures',
  ).map((s, i) => string(object(s, sigPath(i)).sig, `${sigPath(i)}.sig`));
  distinctSignatures(contents, sigPath);
  const signatures = [];
  for (const [i, content] of contents.entries()) {
    const sig = base64(content, `${sigPath(i)}.sig`);
    const verifier = await firstVerifying(verifiers, message, sig);
    if (!verifier) throw new RekorLocalError('INVALID_SIGNATURE', `${sigPath(i)}: no verifier verifies it`);
    signatures.push({ content, verifier: verifier.stored });
  }
  const body = {
    apiVersion: '0.0.2',
    kind: 'dsse',
    spec: {
      dsseV002: {
        payloadHash: { algorithm: 'SHA2_256', digest: createHash('sha256').update(payload).digest('base64') },
        signatures,
      },
    },
  };
  return { kind: 'dsse', apiVersion: '0.0.2', body: Buffer.from(json.canonicalize(body), 'utf8') };
}

const KEY_DETAILS = /^[A-Z0-9_]+$/;

export function parseVerifierV2(
  value: unknown,
  path: string,
): { key: KeyObject; stored: Record<string, unknown> } {
  const v = object(value, path);
  const keyDetails = v.keyDetails === undefined ? undefined : string(v.keyDetails, `${path}.keyDetails`);
  if (keyDetails !== undefined && !KEY_DETAILS.test(keyDetails))
    throw badRequest(`${path}.keyDetails: not a PublicKeyDetails name`);
  const holder = v.publicKey ?? v.x509Certificate;
  const raw = base64(object(holder, `${path}.publicKey|x509Certificate`).rawBytes, `${path}.rawBytes`);
  let key: KeyObject;
  let kind: 'publicKey' | 'x509Certificate' = 'publicKey';
  try {
    if (v.publicKey === undefined && looksLikeCertificate(raw)) {
      key = new X509Certificate(raw).publicKey;
      kind = 'x509Certificate';
    } else {
      key = createPublicKey({ key: raw, format: 'der', type: 'spki' });
    }
  } catch (e) {
    throw new RekorLocalError(
      'BAD_REQUEST',
      `${path}: rawBytes is neither a DER certificate nor a DER public key`,
      { cause: e },
    );
  }
  checkKeyStrength(key, path);
  // no undefined values: canonical JSON would write them
  const stored: Record<string, unknown> = { [kind]: { rawBytes: raw.toString('base64') } };
  if (keyDetails !== undefined) stored.keyDetails = keyDetails;
  return { key, stored };
}

/** True when the bytes parse as a DER X.509 certificate. */
function looksLikeCertificate(der: Buffer): boolean {
  try {
    new X509Certificate(der);
    return true;
  } catch {
    return false;
  }
}

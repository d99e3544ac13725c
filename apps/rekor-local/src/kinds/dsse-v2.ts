import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { json } from '@sigstore/core';
import { pae, verifySignature } from '../crypto/public-key';
import { RekorLocalError, badRequest } from '../errors';
import { array, base64, object, string } from './fields';
import type { CanonicalEntry } from './types';

/**
 * Rekor v2 `dsseRequestV002`: `{envelope: {payload, payloadType, signatures:
 * [{sig, keyid}]}, verifiers: [{publicKey|x509Certificate: {rawBytes},
 * keyDetails}]}`. The log stores `dsse` 0.0.2: the payload hash and each
 * signature with its verifier. A verifier's `x509Certificate.rawBytes` may
 * hold a DER certificate or, as @sigstore/sign sends for key signers, a DER
 * public key; the stored verifier says which it was.
 */
export function canonicalizeDsseV2(input: unknown): CanonicalEntry {
  const request = object(object(input, 'request').dsseRequestV002, 'dsseRequestV002');
  const envelope = object(request.envelope, 'dsseRequestV002.envelope');
  const payloadType = string(envelope.payloadType, 'envelope.payloadType');
  const payload = base64(envelope.payload, 'envelope.payload');
  const verifiers = array(request.verifiers, 'dsseRequestV002.verifiers').map((v, i) =>
    parseVerifierV2(v, `dsseRequestV002.verifiers[${i}]`),
  );
  const message = pae(payloadType, payload);
  const signatures = array(envelope.signatures, 'envelope.signatures').map((s, i) => {
    const content = string(object(s, `envelope.signatures[${i}]`).sig, `envelope.signatures[${i}].sig`);
    const sig = base64(content, `envelope.signatures[${i}].sig`);
    const verifier = verifiers.find((v) => verifySignature(v.key, message, sig));
    if (!verifier)
      throw new RekorLocalError('INVALID_SIGNATURE', `envelope.signatures[${i}]: no verifier verifies it`);
    return { content, verifier: verifier.stored };
  });
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

function parseVerifierV2(value: unknown, path: string): { key: KeyObject; stored: Record<string, unknown> } {
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

import { json } from '@sigstore/core';
import { RekorLocalError, badRequest } from '../errors';
import { parseVerifierV2 } from './dsse-v2';
import { base64, object, string } from './fields';
import { verifyDigest } from './hashedrekord';
import type { CanonicalEntry } from './types';

/**
 * Rekor v2 `hashedRekordRequestV002`: `{digest, signature: {content,
 * verifier: {publicKey|x509Certificate: {rawBytes}, keyDetails}}}`. The log
 * stores `hashedrekord` 0.0.2: `{data: {algorithm: SHA2_256, digest},
 * signature: {content, verifier}}`. The signature is checked over the digest
 * (ECDSA P-256 or RSA PKCS#1 v1.5 keys, SHA-256 digests).
 */
export function canonicalizeHashedRekordV2(input: unknown): CanonicalEntry {
  const request = object(object(input, 'request').hashedRekordRequestV002, 'hashedRekordRequestV002');
  const digest = base64(request.digest, 'hashedRekordRequestV002.digest');
  if (digest.length !== 32)
    throw badRequest('hashedRekordRequestV002.digest: expected a SHA-256 digest (32 bytes)');
  const signature = object(request.signature, 'hashedRekordRequestV002.signature');
  const content = string(signature.content, 'signature.content');
  const sig = base64(content, 'signature.content');
  const verifier = parseVerifierV2(signature.verifier, 'signature.verifier');
  if (!verifyDigest(verifier.key, digest, sig)) {
    throw new RekorLocalError('INVALID_SIGNATURE', 'signature.content: does not verify over the digest');
  }
  const body = {
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: {
      hashedRekordV002: {
        data: { algorithm: 'SHA2_256', digest: digest.toString('base64') },
        signature: { content, verifier: verifier.stored },
      },
    },
  };
  return { kind: 'hashedrekord', apiVersion: '0.0.2', body: Buffer.from(json.canonicalize(body), 'utf8') };
}

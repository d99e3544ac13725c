import { createPublicKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { RekorLocalError, badRequest } from '../errors';

/**
 * Parses a verifier as Rekor accepts it: base64 of a PEM public key (or of a
 * PEM certificate, whose key is used). Returns the key and its canonical PEM.
 */
export function parseVerifier(b64: string, field: string): { key: KeyObject; pem: string } {
  const text = Buffer.from(b64, 'base64').toString('utf8');
  if (!text.includes('-----BEGIN')) throw badRequest(`${field}: not a base64-encoded PEM public key`);
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch (e) {
    throw new RekorLocalError('BAD_REQUEST', `${field}: could not parse public key`, { cause: e });
  }
  return { key, pem: key.export({ type: 'spki', format: 'pem' }).toString() };
}

/** Verifies `signature` over `data` (hashing with SHA-256 unless the key is Ed25519/Ed448). */
export function verifySignature(key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const type = key.asymmetricKeyType;
  const algorithm = type === 'ed25519' || type === 'ed448' ? null : 'sha256';
  try {
    return verify(algorithm, data, key, signature);
  } catch {
    return false;
  }
}

/** DSSE pre-authentication encoding (PAE) of a payload. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ]);
}

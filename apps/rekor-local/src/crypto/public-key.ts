import { createPublicKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { RekorLocalError, badRequest } from '../errors';
import { checkKeyStrength } from '../kinds/limits';

/**
 * Parses a verifier as Rekor accepts it: base64 of a PEM public key (or of a
 * PEM certificate, whose key is used). Returns the key and its canonical PEM.
 */
export function parseVerifier(b64: string, field: string): { key: KeyObject; pem: string } {
  const cached = PARSED.get(b64);
  if (cached) return cached;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  if (!text.includes('-----BEGIN')) throw badRequest(`${field}: not a base64-encoded PEM public key`);
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch (e) {
    throw new RekorLocalError('BAD_REQUEST', `${field}: could not parse public key`, { cause: e });
  }
  checkKeyStrength(key, field);
  const parsed = { key, pem: key.export({ type: 'spki', format: 'pem' }).toString() };
  if (PARSED.size >= PARSED_MAX) PARSED.delete(PARSED.keys().next().value!);
  PARSED.set(b64, parsed);
  return parsed;
}

/** Parsed verifiers by their base64 text: signers send the same key again and again. */
const PARSED = new Map<string, { key: KeyObject; pem: string }>();
const PARSED_MAX = 1024;

/**
 * Verifies `signature` over `data` (hashing with SHA-256 unless the key is
 * Ed25519/Ed448), on libuv's thread pool: the event loop keeps serving other
 * requests meanwhile. A malformed signature is `false`.
 */
export function verifySignature(key: KeyObject, data: Buffer, signature: Buffer): Promise<boolean> {
  const type = key.asymmetricKeyType;
  const algorithm = type === 'ed25519' || type === 'ed448' ? null : 'sha256';
  return new Promise((resolve) => {
    try {
      verify(algorithm, data, key, signature, (err, ok) => resolve(err === null && ok));
    } catch {
      resolve(false);
    }
  });
}

/** The first of `keys` under which `signature` verifies, trying them one after another. */
export async function firstVerifying<K extends { key: KeyObject }>(
  keys: readonly K[],
  data: Buffer,
  signature: Buffer,
): Promise<K | undefined> {
  for (const k of keys) if (await verifySignature(k.key, data, signature)) return k;
  return undefined;
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

import type { KeyObject } from 'node:crypto';
import { badRequest } from '../errors';

/**
 * What one proposed entry may ask the log to verify, so that no request can
 * keep it busy: a few signatures, a few distinct keys, of sizes whose
 * verification is cheap (as upstream Rekor, whose clients send one
 * signature and one key).
 */

/** Signatures per entry, at most. */
export const MAX_SIGNATURES = 8;
/** Verifiers (public keys) per entry, at most. */
export const MAX_VERIFIERS = 8;
/** RSA modulus sizes accepted, in bits. */
export const RSA_BITS = { min: 2048, max: 4096 } as const;
const CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

/** Refuses a key whose type or size is not accepted (a huge RSA key costs much to verify with). */
export function checkKeyStrength(key: KeyObject, field: string): void {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return;
  if (type === 'ec' && CURVES.has(key.asymmetricKeyDetails?.namedCurve ?? '')) return;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (type === 'rsa' && bits >= RSA_BITS.min && bits <= RSA_BITS.max) return;
  throw badRequest(
    `${field}: ${type === 'rsa' ? `an RSA key of ${bits} bits` : `a ${type ?? 'unknown'} key`} is not accepted; use ECDSA P-256/P-384/P-521, Ed25519, or RSA of ${RSA_BITS.min} to ${RSA_BITS.max} bits`,
  );
}

/** Refuses a list longer than `max`. */
export function atMost<T>(list: T[], max: number, path: string): T[] {
  if (list.length > max) throw badRequest(`${path}: ${list.length} items; at most ${max} are accepted`);
  return list;
}

/** Refuses the second occurrence of the same public key (by its DER encoding) in `keys`. */
export function distinctKeys(keys: readonly KeyObject[], path: (i: number) => string): void {
  // one key is distinct; the DER export costs as much as a signature check
  if (keys.length < 2) return;
  const seen = new Map<string, number>();
  keys.forEach((k, i) => {
    const der = k.export({ type: 'spki', format: 'der' }).toString('hex');
    const first = seen.get(der);
    if (first !== undefined)
      throw badRequest(`${path(i)}: the same key as ${path(first)}; send each key once`);
    seen.set(der, i);
  });
}

/** Refuses the same signature twice. */
export function distinctSignatures(sigs: readonly string[], path: (i: number) => string): void {
  const seen = new Map<string, number>();
  sigs.forEach((s, i) => {
    const first = seen.get(s);
    if (first !== undefined) throw badRequest(`${path(i)}: the same signature as ${path(first)}`);
    seen.set(s, i);
  });
}

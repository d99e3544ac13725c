import { constants, publicDecrypt } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { json } from '@sigstore/core';
import { verifyP256Digest } from '../crypto/p256-prehash';
import { parseVerifier } from '../crypto/public-key';
import { RekorLocalError, badRequest } from '../errors';
import { base64, hash, object, string } from './fields';
import type { CanonicalEntry } from './types';

/**
 * `hashedrekord` 0.0.1: a SHA-256 digest, a signature over it and the public
 * key. Keys supported: ECDSA P-256 and RSA PKCS#1 v1.5.
 */
export async function canonicalizeHashedRekord(spec: Record<string, unknown>): Promise<CanonicalEntry> {
  const data = object(spec.data, 'spec.data');
  const digest = hash(data.hash, 'spec.data.hash');
  const signature = object(spec.signature, 'spec.signature');
  const content = string(signature.content, 'spec.signature.content');
  const sig = base64(content, 'spec.signature.content');
  const publicKey = object(signature.publicKey, 'spec.signature.publicKey');
  const keyB64 = string(publicKey.content, 'spec.signature.publicKey.content');
  const { key, pem } = parseVerifier(keyB64, 'spec.signature.publicKey.content');
  if (!verifyDigest(key, Buffer.from(digest.value, 'hex'), sig)) {
    throw new RekorLocalError(
      'INVALID_SIGNATURE',
      'spec.signature.content: does not verify over spec.data.hash',
    );
  }
  const body = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: digest },
      signature: { content, publicKey: { content: Buffer.from(pem, 'utf8').toString('base64') } },
    },
  };
  return { kind: 'hashedrekord', apiVersion: '0.0.1', body: Buffer.from(json.canonicalize(body), 'utf8') };
}

/** DER DigestInfo prefix of SHA-256 (RFC 8017 §9.2). */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export function verifyDigest(key: KeyObject, digest: Buffer, sig: Buffer): boolean {
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') break;
      return verifyP256Digest(key, digest, sig);
    case 'rsa':
      try {
        const decoded = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, sig);
        return decoded.equals(Buffer.concat([SHA256_DIGEST_INFO, digest]));
      } catch {
        return false;
      }
  }
  throw badRequest('spec.signature.publicKey: only ECDSA P-256 and RSA keys are supported for hashedrekord');
}

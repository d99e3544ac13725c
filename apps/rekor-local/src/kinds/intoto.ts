import { createHash } from 'node:crypto';
import { json } from '@sigstore/core';
import { parseVerifier, pae, verifySignature } from '../crypto/public-key';
import { RekorLocalError } from '../errors';
import { array, base64, hash, object, string } from './fields';
import type { CanonicalEntry } from './types';

/**
 * `intoto` 0.0.2: a DSSE envelope whose payload and signatures are base64 of
 * their usual base64 text, each signature carrying its public key. The log
 * stores the envelope without its payload, the client's envelope hash and the
 * payload hash it computes.
 */
export function canonicalizeIntoto(spec: Record<string, unknown>): CanonicalEntry {
  const content = object(spec.content, 'spec.content');
  const envelope = object(content.envelope, 'spec.content.envelope');
  const envelopeHash = hash(content.hash, 'spec.content.hash');
  const payloadType = string(envelope.payloadType, 'spec.content.envelope.payloadType');
  const payloadB64 = base64(envelope.payload, 'spec.content.envelope.payload').toString('utf8');
  const payload = base64(payloadB64, 'spec.content.envelope.payload (decoded)');
  const message = pae(payloadType, payload);

  const raw = array(envelope.signatures, 'spec.content.envelope.signatures').map((s, i) => {
    const path = `spec.content.envelope.signatures[${i}]`;
    const item = object(s, path);
    const sigB64 = string(item.sig, `${path}.sig`);
    const sig = base64(base64(sigB64, `${path}.sig`).toString('utf8'), `${path}.sig (decoded)`);
    const publicKey = string(item.publicKey, `${path}.publicKey`);
    const keyid =
      item.keyid === undefined || item.keyid === '' ? undefined : string(item.keyid, `${path}.keyid`);
    return { path, sigB64, sig, publicKey, keyid, key: parseVerifier(publicKey, `${path}.publicKey`) };
  });
  const signatures = raw.map((s) => {
    const verifier = raw.find((k) => verifySignature(k.key.key, message, s.sig));
    if (!verifier) throw new RekorLocalError('INVALID_SIGNATURE', `${s.path}: no public key verifies it`);
    // no undefined values: canonical JSON would write them
    return s.keyid === undefined
      ? { publicKey: s.publicKey, sig: s.sigB64 }
      : { keyid: s.keyid, publicKey: s.publicKey, sig: s.sigB64 };
  });

  const body = {
    apiVersion: '0.0.2',
    kind: 'intoto',
    spec: {
      content: {
        envelope: { payloadType, signatures },
        hash: envelopeHash,
        payloadHash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') },
      },
    },
  };
  return { kind: 'intoto', apiVersion: '0.0.2', body: Buffer.from(json.canonicalize(body), 'utf8') };
}

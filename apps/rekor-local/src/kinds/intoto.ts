import { createHash } from 'node:crypto';
import { json } from '@sigstore/core';
import { firstVerifying, parseVerifier, pae } from '../crypto/public-key';
import { RekorLocalError } from '../errors';
import { array, base64, hash, object, string } from './fields';
import { atMost, distinctKeys, distinctSignatures, MAX_SIGNATURES } from './limits';
import type { CanonicalEntry } from './types';

/**
 * `intoto` 0.0.2: a DSSE envelope whose payload and signatures are base64 of
 * their usual base64 text, each signature carrying its public key. The log
 * stores the envelope without its payload, the client's envelope hash and the
 * payload hash it computes. At most `MAX_SIGNATURES` signatures, each with a
 * key of its own; verified off the event loop.
 */
export async function canonicalizeIntoto(spec: Record<string, unknown>): Promise<CanonicalEntry> {
  const content = object(spec.content, 'spec.content');
  const envelope = object(content.envelope, 'spec.content.envelope');
  const envelopeHash = hash(content.hash, 'spec.content.hash');
  const payloadType = string(envelope.payloadType, 'spec.content.envelope.payloadType');
  const payloadB64 = base64(envelope.payload, 'spec.content.envelope.payload').toString('utf8');
  const payload = base64(payloadB64, 'spec.content.envelope.payload (decoded)');
  const message = pae(payloadType, payload);

  const path = (i: number) => `spec.content.envelope.signatures[${i}]`;
  const raw = atMost(
    array(envelope.signatures, 'spec.content.envelope.signatures'),
    MAX_SIGNATURES,
    'spec.content.envelope.signatures',
  ).map((s, i) => {
    const item = object(s, path(i));
    const sigB64 = string(item.sig, `${path(i)}.sig`);
    const sig = base64(base64(sigB64, `${path(i)}.sig`).toString('utf8'), `${path(i)}.sig (decoded)`);
    const publicKey = string(item.publicKey, `${path(i)}.publicKey`);
    const keyid =
      item.keyid === undefined || item.keyid === '' ? undefined : string(item.keyid, `${path(i)}.keyid`);
    return {
      path: path(i),
      sigB64,
      sig,
      publicKey,
      keyid,
      key: parseVerifier(publicKey, `${path(i)}.publicKey`).key,
    };
  });
  distinctKeys(
    raw.map((r) => r.key),
    (i) => `${path(i)}.publicKey`,
  );
  distinctSignatures(
    raw.map((r) => r.sigB64),
    (i) => `${path(i)}.sig`,
  );
  const signatures = [];
  for (const s of raw) {
    if (!(await firstVerifying(raw, message, s.sig))) {
      throw new RekorLocalError('INVALID_SIGNATURE', `${s.path}: no public key verifies it`);
    }
    // no undefined values: canonical JSON would write them
    signatures.push(
      s.keyid === undefined
        ? { publicKey: s.publicKey, sig: s.sigB64 }
        : { keyid: s.keyid, publicKey: s.publicKey, sig: s.sigB64 },
    );
  }

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

import { createHash } from 'node:crypto';
import { json } from '@sigstore/core';
import { parseVerifier, pae, verifySignature } from '../crypto/public-key';
import { RekorLocalError, badRequest } from '../errors';
import { array, base64, object, string } from './fields';
import type { CanonicalEntry } from './types';

/**
 * `dsse` 0.0.1: the client proposes `{proposedContent: {envelope, verifiers}}`;
 * every envelope signature must verify under one of the verifiers. The log
 * stores the envelope and payload hashes and each signature with its verifier.
 */
export function canonicalizeDsse(spec: Record<string, unknown>): CanonicalEntry {
  if (spec.envelopeHash !== undefined || spec.payloadHash !== undefined || spec.signatures !== undefined) {
    throw badRequest(
      'spec: envelopeHash, payloadHash and signatures are computed by the log; send proposedContent only',
    );
  }
  const proposed = object(spec.proposedContent, 'spec.proposedContent');
  const envelopeText = string(proposed.envelope, 'spec.proposedContent.envelope');
  const verifiers = array(proposed.verifiers, 'spec.proposedContent.verifiers').map((v, i) =>
    parseVerifier(string(v, `spec.proposedContent.verifiers[${i}]`), `spec.proposedContent.verifiers[${i}]`),
  );
  let parsed: unknown;
  try {
    parsed = JSON.parse(envelopeText);
  } catch {
    throw badRequest('spec.proposedContent.envelope: not a JSON DSSE envelope');
  }
  const envelope = object(parsed, 'envelope');
  const payloadType = string(envelope.payloadType, 'envelope.payloadType');
  const payload = base64(envelope.payload, 'envelope.payload');
  const message = pae(payloadType, payload);

  const signatures = array(envelope.signatures, 'envelope.signatures').map((s, i) => {
    const sigText = string(object(s, `envelope.signatures[${i}]`).sig, `envelope.signatures[${i}].sig`);
    const sig = base64(sigText, `envelope.signatures[${i}].sig`);
    const verifier = verifiers.find((v) => verifySignature(v.key, message, sig));
    if (!verifier) {
      throw new RekorLocalError('INVALID_SIGNATURE', `envelope.signatures[${i}]: no verifier verifies it`);
    }
    return { signature: sigText, verifier: Buffer.from(verifier.pem, 'utf8').toString('base64') };
  });
  signatures.sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));

  const body = {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256Hex(Buffer.from(envelopeText, 'utf8')) },
      payloadHash: { algorithm: 'sha256', value: sha256Hex(payload) },
      signatures,
    },
  };
  return { kind: 'dsse', apiVersion: '0.0.1', body: Buffer.from(json.canonicalize(body), 'utf8') };
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

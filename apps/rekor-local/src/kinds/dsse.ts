import { createHash } from 'node:crypto';
import { json } from '@sigstore/core';
import { firstVerifying, parseVerifier, pae } from '../crypto/public-key';
import { RekorLocalError, badRequest } from '../errors';
import { array, base64, object, string } from './fields';
import { atMost, distinctKeys, distinctSignatures, MAX_SIGNATURES, MAX_VERIFIERS } from './limits';
import type { CanonicalEntry } from './types';

/**
 * `dsse` 0.0.1: the client proposes `{proposedContent: {envelope, verifiers}}`;
 * every envelope signature must verify under one of the verifiers. The log
 * stores the envelope and payload hashes and each signature with its verifier.
 * At most `MAX_SIGNATURES` distinct signatures and `MAX_VERIFIERS` distinct
 * keys; each signature is checked against the keys off the event loop.
 */
export async function canonicalizeDsse(spec: Record<string, unknown>): Promise<CanonicalEntry> {
  if (spec.envelopeHash !== undefined || spec.payloadHash !== undefined || spec.signatures !== undefined) {
    throw badRequest(
      'spec: envelopeHash, payloadHash and signatures are computed by the log; send proposedContent only',
    );
  }
  const proposed = object(spec.proposedContent, 'spec.proposedContent');
  const envelopeText = string(proposed.envelope, 'spec.proposedContent.envelope');
  const verifierPath = (i: number) => `spec.proposedContent.verifiers[${i}]`;
  const verifiers = atMost(
    array(proposed.verifiers, 'spec.proposedContent.verifiers'),
    MAX_VERIFIERS,
    'spec.proposedContent.verifiers',
  ).map((v, i) => parseVerifier(string(v, verifierPath(i)), verifierPath(i)));
  distinctKeys(
    verifiers.map((v) => v.key),
    verifierPath,
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

  const sigPath = (i: number) => `envelope.signatures[${i}]`;
  const proposedSigs = atMost(
    array(envelope.signatures, 'envelope.signatures'),
    MAX_SIGNATURES,
    'envelope.signatures',
  ).map((s, i) => string(object(s, sigPath(i)).sig, `${sigPath(i)}.sig`));
  distinctSignatures(proposedSigs, sigPath);
  const signatures = [];
  for (const [i, sigText] of proposedSigs.entries()) {
    const sig = base64(sigText, `${sigPath(i)}.sig`);
    const verifier = await firstVerifying(verifiers, message, sig);
    if (!verifier) {
      throw new RekorLocalError('INVALID_SIGNATURE', `${sigPath(i)}: no verifier verifies it`);
    }
    signatures.push({ signature: sigText, verifier: Buffer.from(verifier.pem, 'utf8').toString('base64') });
  }
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

import { createHash } from 'node:crypto';
import { dsse } from '@sigstore/core';
import {
  IN_TOTO_PAYLOAD_TYPE,
  statementPayload,
  type SignedEnvelope,
  type Statement,
} from '@rekor-budget/core';
import { RekorError } from './error';
import type { Signer } from './signer';

/** The default of `maxPayloadBytes`: 100 KiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 102_400;

export interface SignEnvelopeOptions {
  /** Largest statement accepted, in bytes. @defaultValue 102 400 */
  maxPayloadBytes?: number;
}

/**
 * Signs a statement into a DSSE envelope. A statement over `maxPayloadBytes`
 * is refused (`PAYLOAD_TOO_LARGE`) before anything is signed.
 */
export function signEnvelope(
  statement: Statement,
  signer: Signer,
  options: SignEnvelopeOptions = {},
): SignedEnvelope {
  const max = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const payload = statementPayload(statement);
  if (payload.length > max) {
    throw new RekorError(
      'PAYLOAD_TOO_LARGE',
      `the statement is ${payload.length} bytes, over maxPayloadBytes (${max}); reduce the edges attested or raise attestor.rekor.maxPayloadBytes`,
    );
  }
  const sig = signer.sign(dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload));
  return {
    envelope: {
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      payload: payload.toString('base64'),
      signatures: [{ keyid: signer.keyHint, sig: sig.toString('base64') }],
    },
    publicKeyPem: signer.publicKeyPem,
    keyHint: signer.keyHint,
    algorithm: signer.algorithm,
    payloadDigest: `sha256:${createHash('sha256').update(payload).digest('hex')}`,
  };
}

/** Checks the shape of an envelope read back from storage; throws `INVALID_ENVELOPE`. */
export function assertSignedEnvelope(value: unknown): asserts value is SignedEnvelope {
  const v = value as Partial<SignedEnvelope> | null;
  const sig = v?.envelope?.signatures?.[0];
  const ok =
    typeof v?.envelope?.payloadType === 'string' &&
    typeof v.envelope.payload === 'string' &&
    v.envelope.signatures.length === 1 &&
    typeof sig?.sig === 'string' &&
    typeof sig.keyid === 'string' &&
    typeof v.publicKeyPem === 'string' &&
    typeof v.keyHint === 'string' &&
    (v.algorithm === 'ecdsa-p256' || v.algorithm === 'ed25519');
  if (!ok) {
    throw new RekorError(
      'INVALID_ENVELOPE',
      'not a signed envelope made by signEnvelope(); sign the statement again',
    );
  }
}

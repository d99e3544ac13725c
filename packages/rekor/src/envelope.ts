import { createHash, createPublicKey, verify } from 'node:crypto';
import { dsse } from '@sigstore/core';
import {
  buildStatement,
  IN_TOTO_PAYLOAD_TYPE,
  statementPayload,
  SubmissionError,
  type SignedEnvelope,
  type Statement,
  type Submission,
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

function spki(pem: string): Buffer {
  return createPublicKey(pem).export({ type: 'spki', format: 'der' });
}

/**
 * Checks an envelope that travels with a submission (saved in job data or
 * an offline row) before it is sent: it must be `signer`'s signature of the
 * submission's own statement, byte for byte. Anything else (another key, a
 * statement of other content, a bad signature) throws `SubmissionError`
 * `ENVELOPE_MISMATCH`: the envelope is not sent under this site's name.
 */
export function checkEnvelopeOf(
  value: unknown,
  submission: Submission,
  signer: Pick<Signer, 'publicKeyPem' | 'algorithm'>,
): SignedEnvelope {
  const refuse = (why: string, cause?: unknown): never => {
    throw new SubmissionError(
      'ENVELOPE_MISMATCH',
      'envelope',
      `${why}; it is not sent. Submit the content again through the producer`,
      cause === undefined ? undefined : { cause },
    );
  };
  try {
    assertSignedEnvelope(value);
  } catch (cause) {
    return refuse('is not a signed envelope', cause);
  }
  const signed = value;
  const payload = Buffer.from(signed.envelope.payload, 'base64');
  const expected = statementPayload(buildStatement(submission));
  if (signed.envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE || !payload.equals(expected)) {
    refuse("does not carry the submission's statement");
  }
  if (signed.payloadDigest !== `sha256:${createHash('sha256').update(payload).digest('hex')}`) {
    refuse('does not match its payloadDigest');
  }
  let ok = false;
  try {
    const sameKey = spki(signed.publicKeyPem).equals(spki(signer.publicKeyPem));
    ok =
      sameKey &&
      verify(
        signer.algorithm === 'ed25519' ? null : 'sha256',
        dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload),
        signer.publicKeyPem,
        Buffer.from(signed.envelope.signatures[0].sig, 'base64'),
      );
  } catch (cause) {
    refuse('has a public key or signature that cannot be read', cause);
  }
  if (!ok) refuse("is not signed by this site's signing key");
  return signed;
}

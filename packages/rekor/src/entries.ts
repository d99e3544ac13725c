import { createHash, createPublicKey } from 'node:crypto';
import { json } from '@sigstore/core';
import { PublicKeyDetails } from '@sigstore/protobuf-specs';
import { CreateEntryRequest } from '@sigstore/protobuf-specs/rekor/v2';
import type { SignedEnvelope } from '@rekor-budget/core';
import { RekorError } from './error';

/**
 * The request bodies Rekor expects for a signed envelope. Each is a pure
 * function of the envelope, so a retry sends the same bytes and Rekor
 * recognizes the entry it already has.
 */

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * The largest request body any entry kind makes of a statement of
 * `maxPayloadBytes`: the payload travels base64 once (dsse, v2) or twice
 * (intoto v0.0.2: 16/9 of the statement), plus signature, key and framing.
 * A log that accepts bodies this large accepts every statement the producer
 * lets through.
 */
export function maxRequestBytes(maxPayloadBytes: number): number {
  return Math.ceil((maxPayloadBytes * 16) / 9) + 16 * 1024;
}

/** Rekor v1 `dsse` v0.0.1 proposed entry. */
export function dsseEntryV1(signed: SignedEnvelope): unknown {
  const { envelope } = signed;
  const env = {
    payload: envelope.payload,
    payloadType: envelope.payloadType,
    signatures: envelope.signatures,
  };
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: { proposedContent: { envelope: JSON.stringify(env), verifiers: [b64(signed.publicKeyPem)] } },
  };
}

/** Rekor v1 `intoto` v0.0.2 proposed entry (payload and signature base64 twice, as Rekor expects). */
export function intotoEntryV1(signed: SignedEnvelope): unknown {
  const { envelope } = signed;
  const [sig] = envelope.signatures;
  const payload = Buffer.from(envelope.payload, 'base64');
  const hashed: { sig: string; publicKey: string; keyid?: string } = {
    sig: sig.sig,
    publicKey: signed.publicKeyPem,
  };
  const entrySig: { sig: string; publicKey: string; keyid?: string } = {
    sig: b64(sig.sig),
    publicKey: b64(signed.publicKeyPem),
  };
  if (sig.keyid.length > 0) {
    hashed.keyid = sig.keyid;
    entrySig.keyid = sig.keyid;
  }
  const envelopeHash = createHash('sha256')
    .update(
      json.canonicalize({
        payloadType: envelope.payloadType,
        payload: envelope.payload,
        signatures: [hashed],
      }),
    )
    .digest('hex');
  return {
    apiVersion: '0.0.2',
    kind: 'intoto',
    spec: {
      content: {
        envelope: {
          payloadType: envelope.payloadType,
          payload: b64(envelope.payload),
          signatures: [entrySig],
        },
        hash: { algorithm: 'sha256', value: envelopeHash },
        payloadHash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') },
      },
    },
  };
}

/** Rekor v2 `CreateEntryRequest` for a DSSE envelope verified by a public key. */
export function dsseRequestV2(signed: SignedEnvelope): unknown {
  const { envelope } = signed;
  let der: Buffer;
  try {
    der = createPublicKey(signed.publicKeyPem).export({ type: 'spki', format: 'der' });
  } catch (cause) {
    throw new RekorError('INVALID_ENVELOPE', 'the envelope carries no valid public key; sign it again', {
      cause,
    });
  }
  return CreateEntryRequest.toJSON({
    spec: {
      $case: 'dsseRequestV002',
      dsseRequestV002: {
        envelope: {
          payloadType: envelope.payloadType,
          payload: Buffer.from(envelope.payload, 'base64'),
          signatures: envelope.signatures.map((s) => ({ keyid: s.keyid, sig: Buffer.from(s.sig, 'base64') })),
        },
        verifiers: [
          {
            keyDetails:
              signed.algorithm === 'ed25519'
                ? PublicKeyDetails.PKIX_ED25519
                : PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
            verifier: { $case: 'publicKey', publicKey: { rawBytes: der } },
          },
        ],
      },
    },
  });
}

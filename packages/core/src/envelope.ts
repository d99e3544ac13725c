import type { Sha256Digest, Tier } from './domain';

/**
 * The data of a signed attestation and of its receipt: plain JSON, kept in
 * job data, the offline queue and `attestor.rekor_entries`. `@rekor-budget/rekor`
 * makes and checks them; everything else only stores and passes them on.
 */

/** Key types a signer may use. */
export type KeyAlgorithm = 'ecdsa-p256' | 'ed25519';

/** A DSSE envelope in its JSON form (payload and signature base64). */
export interface DsseEnvelopeJson {
  payloadType: string;
  payload: string;
  signatures: [{ keyid: string; sig: string }];
}

/**
 * A statement signed once, as plain JSON: safe to keep in job data and to
 * re-send byte for byte on every retry.
 */
export interface SignedEnvelope {
  envelope: DsseEnvelopeJson;
  /** The signer's public key, SPKI PEM. */
  publicKeyPem: string;
  keyHint: string;
  algorithm: KeyAlgorithm;
  /** sha256 of the payload (the statement bytes). */
  payloadDigest: Sha256Digest;
}

/** A receipt: Rekor's proof that a submission is in a log. */
export interface Receipt {
  tenantId: string;
  tier: Tier;
  /** The submission's identity. */
  contentDigest: Sha256Digest;
  /** Rekor's entry uuid (v2: the hex RFC 6962 leaf hash of the entry). */
  uuid: string;
  logIndex: number;
  integratedTime: Date;
  /** The log's id, hex. */
  logId: string;
  logUrl: string;
  /** The sigstore bundle (JSON), verifiable offline (`verifyBundle` of @rekor-budget/rekor). */
  bundle: unknown;
}

/** A receipt as JSON (receipts files, `--json` output): the integrated time in ISO 8601. */
export type ReceiptJson = Omit<Receipt, 'integratedTime'> & { integratedTime: string };

export function receiptToJson(r: Receipt): ReceiptJson {
  return {
    tenantId: r.tenantId,
    tier: r.tier,
    contentDigest: r.contentDigest,
    uuid: r.uuid,
    logIndex: r.logIndex,
    integratedTime: r.integratedTime.toISOString(),
    logId: r.logId,
    logUrl: r.logUrl,
    bundle: r.bundle,
  };
}

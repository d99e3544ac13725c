import type { LogKey } from './crypto/log-key';

/** One transparency log of a sigstore `TrustedRoot` (protobuf-specs JSON). */
export interface TrustedRootTlog {
  baseUrl: string;
  hashAlgorithm: 'SHA2_256';
  publicKey: { rawBytes: string; keyDetails: 'PKIX_ECDSA_P256_SHA_256'; validFor: { start: string } };
  logId: { keyId: string };
  /** Rekor v2: the C2SP checkpoint key ID (for ECDSA, the SHA-256 of the key's SPKI, as the log ID). */
  checkpointKeyId?: { keyId: string };
}

/** One timestamp authority of a `TrustedRoot`: its chain, leaf first. */
export interface TrustedRootTsa {
  subject: { organization: string; commonName: string };
  uri: string;
  certChain: { certificates: { rawBytes: string }[] };
  validFor: { start: string };
}

/** A sigstore `TrustedRoot` (protobuf-specs JSON) that names one transparency log and its TSA. */
export interface TrustedRootJson {
  mediaType: string;
  tlogs: TrustedRootTlog[];
  certificateAuthorities: never[];
  ctlogs: never[];
  timestampAuthorities: TrustedRootTsa[];
}

/** The TSA as a trusted root names it. */
export interface TsaTrust {
  /** DER certificates, leaf first. */
  chain: Buffer[];
  validFrom: string;
}

/**
 * The trusted root for this log: verifiers configured with it need nothing
 * else from the network. With `tsa`, its chain is a timestamp authority.
 */
export function trustedRoot(
  key: LogKey,
  baseUrl: string,
  validFrom: string,
  tsa?: TsaTrust,
): TrustedRootJson {
  const keyId = key.logId.toString('base64');
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: key.spki.toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: validFrom },
        },
        logId: { keyId },
        checkpointKeyId: { keyId },
      },
    ],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: tsa
      ? [
          {
            subject: { organization: 'rekor-budget', commonName: 'rekor-local development TSA' },
            uri: `${baseUrl}/api/v1/timestamp`,
            certChain: { certificates: tsa.chain.map((der) => ({ rawBytes: der.toString('base64') })) },
            validFor: { start: tsa.validFrom },
          },
        ]
      : [],
  };
}

import type { LogKey } from './crypto/log-key';

/** A sigstore `TrustedRoot` (protobuf-specs JSON) that names one transparency log. */
export interface TrustedRootJson {
  mediaType: string;
  tlogs: {
    baseUrl: string;
    hashAlgorithm: 'SHA2_256';
    publicKey: { rawBytes: string; keyDetails: 'PKIX_ECDSA_P256_SHA_256'; validFor: { start: string } };
    logId: { keyId: string };
  }[];
  certificateAuthorities: never[];
  ctlogs: never[];
  timestampAuthorities: never[];
}

/** The trusted root for this log: verifiers configured with it need nothing else from the network. */
export function trustedRoot(key: LogKey, baseUrl: string, validFrom: string): TrustedRootJson {
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
        logId: { keyId: key.logId.toString('base64') },
      },
    ],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  };
}

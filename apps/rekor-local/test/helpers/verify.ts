import { createPublicKey } from 'node:crypto';
import { bundleFromJSON, bundleToJSON, type Bundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import type { KeySigner } from './signer';

/**
 * Verifies a bundle offline with @sigstore/verify: the log from the served
 * trusted root, the signing key found by its hint. The bundle goes through
 * its JSON form first, as a stored receipt would. Throws on any failure.
 */
export function verifyBundle(
  bundle: Bundle,
  trustedRootJson: unknown,
  signer: KeySigner,
  options: { timestampThreshold?: number } = {},
): void {
  const root = TrustedRoot.fromJSON(trustedRootJson);
  const trust = toTrustMaterial(root, (hint: string) => {
    if (hint !== signer.hint) throw new Error(`unknown key hint ${hint}`);
    return { publicKey: createPublicKey(signer.publicKeyPem), validFor: () => true };
  });
  const verifier = new Verifier(trust, {
    tlogThreshold: 1,
    ctlogThreshold: 0,
    timestampThreshold: options.timestampThreshold ?? 1,
  });
  const stored = bundleFromJSON(JSON.parse(JSON.stringify(bundleToJSON(bundle))));
  verifier.verify(toSignedEntity(stored));
}

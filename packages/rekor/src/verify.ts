import { createPublicKey, type KeyObject } from 'node:crypto';
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { PolicyError, toSignedEntity, toTrustMaterial, VerificationError, Verifier } from '@sigstore/verify';
import { RekorError } from './error';

export interface VerifyBundleOptions {
  /** The sigstore bundle, JSON (as stored in receipts). */
  bundle: unknown;
  /** The trusted root, JSON (e.g. rekor-local's `/trusted_root.json`). */
  trustedRoot: unknown;
  /** The signer's public key, SPKI PEM. */
  publicKeyPem: string;
}

/** The verifier's verdict; `code` is @sigstore/verify's error code. */
export type VerifyBundleResult =
  | { verified: true; logIndex: number; integratedTime?: number }
  | { verified: false; code: string; message: string };

function parse<T>(what: 'INVALID_BUNDLE' | 'INVALID_TRUSTED_ROOT', fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    const name = what === 'INVALID_BUNDLE' ? 'a sigstore bundle' : 'a sigstore trusted root';
    throw new RekorError(what, `the document is not ${name}`, { cause });
  }
}

/**
 * Verifies a bundle offline: the envelope's signature with the public key,
 * the log entry's body against the envelope, and its inclusion (signed entry
 * timestamp and/or inclusion proof) against the logs of the trusted root.
 * Unparseable inputs throw `RekorError` (`INVALID_BUNDLE`, `INVALID_TRUSTED_ROOT`,
 * `KEY_UNSUPPORTED`); a failed verification is a result.
 */
export function verifyBundle(options: VerifyBundleOptions): VerifyBundleResult {
  const bundle: Bundle = parse('INVALID_BUNDLE', () => bundleFromJSON(options.bundle));
  const root = parse('INVALID_TRUSTED_ROOT', () => {
    const r = options.trustedRoot as { tlogs?: unknown } | null;
    if (r === null || typeof r !== 'object' || !Array.isArray(r.tlogs)) throw new TypeError('no tlogs');
    return TrustedRoot.fromJSON(r);
  });
  let key: KeyObject;
  try {
    key = createPublicKey(options.publicKeyPem);
  } catch (cause) {
    throw new RekorError('KEY_UNSUPPORTED', 'the public key is not a PEM public key', { cause });
  }
  const tlogs = bundle.verificationMaterial.tlogEntries;
  const hasPromise = tlogs.some((t) => t.inclusionPromise !== undefined);
  try {
    const trust = parse('INVALID_TRUSTED_ROOT', () =>
      toTrustMaterial(root, () => ({ publicKey: key, validFor: () => true })),
    );
    const verifier = new Verifier(trust, {
      tlogThreshold: 1,
      ctlogThreshold: 0,
      // a v1 entry's signed entry timestamp is its trusted time; a v2 entry has
      // none, so its bundle must carry an RFC 3161 timestamp (CLIENTS.md)
      timestampThreshold: 1,
    });
    // certificates and timestamps are parsed here: garbage in them is an unparseable bundle
    const entity = parse('INVALID_BUNDLE', () => toSignedEntity(bundle));
    verifier.verify(entity);
  } catch (err) {
    if (err instanceof VerificationError || err instanceof PolicyError) {
      return { verified: false, code: err.code, message: err.message };
    }
    throw err;
  }
  const first = tlogs[0]!;
  return hasPromise
    ? { verified: true, logIndex: Number(first.logIndex), integratedTime: Number(first.integratedTime) }
    : { verified: true, logIndex: Number(first.logIndex) };
}

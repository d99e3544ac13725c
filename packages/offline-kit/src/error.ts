import { RekorBudgetError } from '@rekor-budget/core';

/**
 * Stable codes of every error this package throws. A kit or receipts file
 * refused with any of these codes has had nothing written from it.
 */
export type OfflineKitErrorCode =
  /** The kit directory (or receipts file) does not exist or cannot be read. */
  | 'KIT_NOT_FOUND'
  /** `export --out` names a file or a non-empty directory. */
  | 'KIT_EXISTS'
  /** The kit (or receipts file) could not be written. */
  | 'KIT_UNWRITABLE'
  /** `manifest.json` is not JSON, not a kit manifest, or of an unknown format version. */
  | 'MANIFEST_INVALID'
  /** `manifest.json` does not match its `manifestDigest`: it was edited or damaged. */
  | 'MANIFEST_DIGEST_MISMATCH'
  /** A file the manifest lists is not in the kit (a truncated kit). */
  | 'FILE_MISSING'
  /** The kit holds a file the manifest does not list. */
  | 'FILE_UNEXPECTED'
  /** A file does not match the sha256 the manifest gives for it. */
  | 'FILE_DIGEST_MISMATCH'
  /** An envelope is not a signed DSSE envelope, or its signature does not verify. */
  | 'ENVELOPE_INVALID'
  /** The statement's content digest differs from the manifest entry or from the statement itself. */
  | 'CONTENT_DIGEST_MISMATCH'
  /** A receipts file is not JSON, not a receipts file, or holds a malformed receipt. */
  | 'RECEIPTS_INVALID'
  /** A receipts file does not match its `digest`: it was edited or damaged. */
  | 'RECEIPTS_DIGEST_MISMATCH'
  /** A receipt's sigstore bundle did not verify against the trusted root and key. */
  | 'BUNDLE_UNVERIFIED'
  /** The site is configured in a way that forbids the operation (e.g. import on an air-gapped site). */
  | 'SITE_MISMATCH'
  /** No signing public key was given to check a kit against (`--key`, or `signing.keyPath`). */
  | 'KEY_REQUIRED'
  /** A key given to check against is not a PEM public key. */
  | 'KEY_INVALID'
  /** An envelope is signed by a key that is not among the trusted keys. */
  | 'KEY_UNTRUSTED'
  /** A receipts import without a trusted root and key, and without an explicit `--no-verify`. */
  | 'VERIFICATION_REQUIRED'
  /** A kit file is a symlink, FIFO, socket or device instead of a plain file. */
  | 'FILE_NOT_REGULAR'
  /** A kit file is larger than a kit file may be (`KitLimits`). */
  | 'FILE_TOO_LARGE'
  /** The kit's files together are larger than `KitLimits.maxKitBytes`. */
  | 'KIT_TOO_LARGE';

/** An error of `@rekor-budget/offline-kit`; branch on `code`. */
export class OfflineKitError extends RekorBudgetError<OfflineKitErrorCode> {
  /** The kit-relative file (or manifest entry) at fault, when there is one. */
  readonly file?: string;

  constructor(code: OfflineKitErrorCode, message: string, options?: { cause?: unknown; file?: string }) {
    super(code, message, options);
    if (options?.file !== undefined) this.file = options.file;
  }
}

import { RekorBudgetError } from '@rekor-budget/core';

/**
 * Stable codes of every error this package throws. Rekor and network
 * conditions are never thrown by `submit()`: they are outcomes.
 */
export type RekorErrorCode =
  /** The statement is larger than `maxPayloadBytes`; nothing was signed. */
  | 'PAYLOAD_TOO_LARGE'
  /** The submission cannot be turned into a statement. */
  | 'INVALID_SUBMISSION'
  /** The private key file is readable by group or others. */
  | 'KEY_PERMISSIONS'
  /** The key file is missing or unreadable. */
  | 'KEY_UNREADABLE'
  /** The key is not a PEM private key of a supported type (ECDSA P-256, Ed25519). */
  | 'KEY_UNSUPPORTED'
  /** `keygen` would overwrite an existing file. */
  | 'KEY_EXISTS'
  /** `keygen` could not write the key files. */
  | 'KEY_UNWRITABLE'
  /** A signed envelope (e.g. read back from job data) is malformed. */
  | 'INVALID_ENVELOPE'
  /** A bundle or trusted root could not be parsed. */
  | 'INVALID_BUNDLE'
  | 'INVALID_TRUSTED_ROOT'
  /** A client option is out of range. */
  | 'INVALID_OPTIONS';

/** An error of `@rekor-budget/rekor`; branch on `code`. */
export class RekorError extends RekorBudgetError<RekorErrorCode> {}

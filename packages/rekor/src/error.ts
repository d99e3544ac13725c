import { RekorBudgetError } from '@rekor-budget/core';

/**
 * Stable codes of every error this package throws. Rekor and network
 * conditions are never thrown by `submit()` nor `probe()`: they are outcomes
 * and probe results.
 */
export type RekorErrorCode =
  /** The statement is larger than `maxPayloadBytes`; nothing was signed. */
  | 'PAYLOAD_TOO_LARGE'
  /** The private key file is readable by group or others. */
  | 'KEY_PERMISSIONS'
  /** The key file is missing or unreadable. */
  | 'KEY_UNREADABLE'
  /** The key is not a PEM key of a supported type (ECDSA P-256, Ed25519). */
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
  | 'INVALID_OPTIONS'
  /** The log answered 2xx with something that is not what its API describes; `status` is the answer's. */
  | 'INVALID_RESPONSE'
  /** A SigningConfig that is not one, or names no usable Rekor log. */
  | 'INVALID_SIGNING_CONFIG'
  /** `logInfo()`: the log did not answer (network failure, timeout, HTTP error); `cause` says why. */
  | 'LOG_UNAVAILABLE';

export interface RekorErrorOptions {
  cause?: unknown;
  /** `INVALID_RESPONSE`, `LOG_UNAVAILABLE`: the HTTP status of the log's answer, when there was one. */
  status?: number;
}

/** An error of `@rekor-budget/rekor`; branch on `code`. */
export class RekorError extends RekorBudgetError<RekorErrorCode> {
  /** The HTTP status of the log's answer, for the codes that come from one. */
  readonly status: number | undefined;

  constructor(code: RekorErrorCode, message: string, options: RekorErrorOptions = {}) {
    super(code, message, 'cause' in options ? { cause: options.cause } : undefined);
    this.status = options.status;
  }
}

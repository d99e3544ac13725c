import { RekorBudgetError } from '@rekor-budget/core';

/** Stable codes of every error rekor-local raises; branch on these, never on messages. */
export type RekorLocalErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_SIGNATURE'
  | 'UNSUPPORTED_KIND'
  | 'NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'METHOD_NOT_ALLOWED'
  | 'FAULTS_DISABLED'
  | 'INVALID_OPTIONS'
  | 'DATA_DIR_INVALID'
  | 'STORAGE_FAILED'
  /** A port in use, a host that is not this machine's: the options must change. */
  | 'LISTEN_FAILED';

const STATUS: Record<RekorLocalErrorCode, number> = {
  BAD_REQUEST: 400,
  INVALID_SIGNATURE: 400,
  UNSUPPORTED_KIND: 400,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  METHOD_NOT_ALLOWED: 405,
  FAULTS_DISABLED: 404,
  INVALID_OPTIONS: 500,
  DATA_DIR_INVALID: 500,
  STORAGE_FAILED: 503,
  LISTEN_FAILED: 500,
};

/** An error of rekor-local; `status` is the HTTP status it is answered with. */
export class RekorLocalError extends RekorBudgetError<RekorLocalErrorCode> {
  readonly status: number;

  constructor(code: RekorLocalErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = STATUS[code];
  }
}

/** Shorthand for a 400 answered with `message`. */
export function badRequest(message: string): RekorLocalError {
  return new RekorLocalError('BAD_REQUEST', message);
}

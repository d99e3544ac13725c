import type { SerializedBundle } from '@sigstore/bundle';

/** Where a submission landed in the log. */
export interface LogEntryRef {
  /** Rekor's entry uuid (v2: the hex RFC 6962 leaf hash of the entry). */
  uuid: string;
  logIndex: number;
  /** Unix seconds (v2, which has no integrated time: when the entry was received). */
  integratedTime: number;
  /** The log's id, hex. */
  logId: string;
}

/**
 * Everything `submit()` can come back with. It never throws for a Rekor or
 * network condition; the caller decides what to do with each kind:
 *
 * - `created`: the entry was logged now.
 * - `duplicate`: Rekor already had this envelope (409); its entry was fetched.
 * - `rate_limited`: 429; wait `retryAfterMs` (absent when Rekor sent no usable `Retry-After`).
 * - `retryable`: 5xx, 408, timeout, connection reset: try again later.
 * - `unreachable`: the request never reached Rekor (connection refused, DNS).
 * - `rejected`: 4xx such as 400/413/422: permanent, `message` is Rekor's reason.
 * - `frozen`: Rekor v2 answered 405: the log shard is frozen (read-only).
 * - `invalid_response`: the log answered 2xx with something that is not what
 *   its API describes (not a log entry, not JSON). Never retried: each retry
 *   would spend budget on a log that answers so; `message` says what was wrong.
 * - `timestamp_failed`: the timestamp authority (`tsaUrl`) failed or refused
 *   before anything was sent to the log (`status` of its HTTP answer, or the
 *   transport `code`): try again later; the log has not seen the request.
 */
export type SubmitOutcome =
  | { kind: 'created'; logUrl: string; entry: LogEntryRef; bundle: SerializedBundle }
  | { kind: 'duplicate'; logUrl: string; entry: LogEntryRef; bundle: SerializedBundle }
  | { kind: 'rate_limited'; logUrl: string; status: 429; retryAfterMs?: number; message: string }
  | { kind: 'retryable'; logUrl: string; status?: number; code?: string; message: string }
  | { kind: 'unreachable'; logUrl: string; code: string; message: string }
  | { kind: 'rejected'; logUrl: string; status: number; message: string }
  | { kind: 'frozen'; logUrl: string; status: 405; message: string }
  | { kind: 'invalid_response'; logUrl: string; status?: number; message: string }
  | {
      kind: 'timestamp_failed';
      logUrl: string;
      tsaUrl: string;
      status?: number;
      code?: string;
      message: string;
    };

export type SubmitOutcomeKind = SubmitOutcome['kind'];

/** All outcome kinds, for metrics labels and exhaustive tests. */
export const SUBMIT_OUTCOME_KINDS: readonly SubmitOutcomeKind[] = [
  'created',
  'duplicate',
  'rate_limited',
  'retryable',
  'unreachable',
  'rejected',
  'frozen',
  'invalid_response',
  'timestamp_failed',
];

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date (relative to
 * `now`, never negative). Undefined when absent or unparseable.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // HTTP-date: every form starts with the day name, e.g. "Sun, 06 Nov 1994 08:49:37 GMT"
  if (!/^[A-Za-z]{3,9},? /.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

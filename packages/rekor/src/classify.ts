import { RekorError } from './error';
import { HTTPError } from './external/http';
import { parseRetryAfter, type SubmitOutcome } from './outcome';

/** Codes of failures where the request never reached Rekor. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  // our transport: the connection was never made within the request timeout
  'ECONNTIMEDOUT',
]);

/** Transport failures after which trying again may succeed. */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'ESOCKETTIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

const RETRYABLE_NAMES = new Set(['AbortError', 'TimeoutError']);

/** The error and its `cause` chain (fetch wraps the socket error in `cause`). */
function chain(err: unknown): { code?: unknown; name?: unknown; errors?: unknown }[] {
  const out: { code?: unknown; name?: unknown; errors?: unknown }[] = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e !== null && typeof e === 'object'; i++) {
    const x = e as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
    out.push(x);
    // happy-eyeballs attempts fail with an AggregateError of per-address errors
    if (Array.isArray(x.errors)) out.push(...(x.errors as object[]));
    e = x.cause;
  }
  return out;
}

/** Classifies an HTTP error answer of Rekor into an outcome. */
function classifyHttp(err: HTTPError, logUrl: string, apiVersion: 1 | 2, now: number): SubmitOutcome {
  const message = err.serverMessage ?? err.message;
  const { status } = err;
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(err.headers['retry-after'], now);
    return retryAfterMs === undefined
      ? { kind: 'rate_limited', logUrl, status, message }
      : { kind: 'rate_limited', logUrl, status, retryAfterMs, message };
  }
  if (status === 405 && apiVersion === 2) {
    return {
      kind: 'frozen',
      logUrl,
      status,
      message: `the Rekor v2 log at ${logUrl} is frozen and accepts no new entries (${message}); point attestor.rekor.serverUrl at the current shard`,
    };
  }
  if ((status === 404 || status === 501) && apiVersion === 2) {
    return {
      kind: 'rejected',
      logUrl,
      status,
      message: `the log at ${logUrl} does not serve the Rekor v2 API (${message}); set attestor.rekor.apiVersion: 1 or point serverUrl at a v2 log`,
    };
  }
  if (status === 408 || status >= 500) return { kind: 'retryable', logUrl, status, message };
  return { kind: 'rejected', logUrl, status, message };
}

/**
 * The code that names a transport failure: the first code (or `AbortError`/
 * `TimeoutError` name) in its cause chain that says whether the request
 * reached the log, else any code, else `UNKNOWN`.
 */
export function transportCode(err: unknown): { code: string; reachedLog: boolean } {
  const links = chain(err);
  for (const l of links) {
    if (typeof l.code === 'string' && UNREACHABLE_CODES.has(l.code)) {
      return { code: l.code, reachedLog: false };
    }
  }
  for (const l of links) {
    if (typeof l.code === 'string' && RETRYABLE_CODES.has(l.code)) return { code: l.code, reachedLog: true };
    if (typeof l.name === 'string' && RETRYABLE_NAMES.has(l.name)) return { code: l.name, reachedLog: true };
  }
  const code = links.find((l) => typeof l.code === 'string')?.code;
  return { code: typeof code === 'string' ? code : 'UNKNOWN', reachedLog: true };
}

/**
 * Decides the outcome of a failed request from its HTTP status, the
 * `INVALID_RESPONSE` code of an answer that could not be read, or its error
 * codes; never from message text.
 */
export function classifyFailure(err: unknown, logUrl: string, apiVersion: 1 | 2, now: number): SubmitOutcome {
  if (err instanceof HTTPError) return classifyHttp(err, logUrl, apiVersion, now);
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof RekorError && err.code === 'INVALID_RESPONSE') {
    return err.status === undefined
      ? { kind: 'invalid_response', logUrl, message }
      : { kind: 'invalid_response', logUrl, status: err.status, message };
  }
  const { code, reachedLog } = transportCode(err);
  return reachedLog
    ? { kind: 'retryable', logUrl, code, message }
    : { kind: 'unreachable', logUrl, code, message };
}

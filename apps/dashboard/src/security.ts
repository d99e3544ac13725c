import type { Request, RequestHandler, Response } from 'express';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Stable codes of the dashboard's refusals, in the JSON body `{ code, message }`. */
export type RefusalCode =
  /** A write whose `Origin`/`Referer` is not this dashboard (403). */
  | 'CROSS_SITE_WRITE'
  /** A bull-board write the dashboard never allows: add, edit, empty, obliterate... (403). */
  | 'WRITE_NOT_ALLOWED'
  /** `--insecure-local`: a `Host` other than the loopback names with this port (421). */
  | 'HOST_NOT_ALLOWED'
  /** Too many failed logins from this address; `Retry-After` says when to try again (429). */
  | 'TOO_MANY_FAILED_LOGINS'
  /** A path or query the dashboard cannot read; the message says which part and the form it takes (400). */
  | 'BAD_REQUEST';

/** Answers a refusal as JSON `{ code, message }`. */
export function refuse(res: Response, status: number, code: RefusalCode, message: string): void {
  res.status(status).json({ code, message });
}

/** Headers on every response: the dashboard is never framed and leaks no URL to other sites. */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "frame-ancestors 'none'",
    'Referrer-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
  });
  next();
};

/** The host (`name:port`) of the page that sent the request: `Origin`, else `Referer`. */
function sourceHost(req: Request): string | undefined {
  const source = req.headers.origin ?? req.headers.referer;
  if (source === undefined || source === 'null') return undefined;
  try {
    return new URL(source).host.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Refuses (403) a request with an unsafe method (POST, PUT, PATCH, DELETE)
 * unless its `Origin` (or, without one, its `Referer`) names this very host.
 * Browsers send `Origin` on every such request, so bull-board's own buttons
 * pass and a form or script on another site does not. Scripts calling the
 * API must send `Origin: http://<dashboard host>`.
 */
export const sameOriginWrites: RequestHandler = (req, res, next) => {
  if (SAFE_METHODS.has(req.method)) return next();
  const host = req.headers.host?.toLowerCase();
  const source = sourceHost(req);
  if (host !== undefined && source === host) return next();
  refuse(
    res,
    403,
    'CROSS_SITE_WRITE',
    'cross-site request refused: a write must come from a page of this dashboard',
  );
};

/**
 * The bull-board API writes the dashboard performs (paths under its mount
 * point): retry, promote, clean and pause/resume. Cleaning a whole status is
 * allowed for finished jobs only (`completed`, `failed`): a waiting or delayed
 * job is a submission on its way to Rekor. Anything else bull-board offers
 * (add or duplicate a job, edit its data, delay or priority, empty or
 * obliterate a queue, concurrency and rate limits, schedulers) is refused,
 * including endpoints a later bull-board version may add.
 */
const ALLOWED_WRITES: readonly RegExp[] = [
  /^\/api\/queues\/(pause|resume)$/,
  /^\/api\/queues\/[^/]+\/(pause|resume|promote)$/,
  /^\/api\/queues\/[^/]+\/retry\/[^/]+$/,
  /^\/api\/queues\/[^/]+\/clean\/(completed|failed)$/,
  /^\/api\/queues\/[^/]+\/[^/]+\/(retry|promote|clean)$/,
];

/**
 * Refuses (403 `WRITE_NOT_ALLOWED`) every write to the bull-board API but
 * retry, promote, clean and pause/resume. Mount it where bull-board is mounted.
 */
export const allowedQueueWrites: RequestHandler = (req, res, next) => {
  if (SAFE_METHODS.has(req.method)) return next();
  if (req.method === 'PUT' && ALLOWED_WRITES.some((re) => re.test(req.path))) return next();
  refuse(
    res,
    403,
    'WRITE_NOT_ALLOWED',
    'the dashboard only retries, promotes, cleans and pauses jobs; submissions are added by the producer, never edited',
  );
};

/**
 * For a dashboard served without credentials on loopback: refuses (421) any
 * request whose `Host` is not `127.0.0.1`, `localhost` or `[::1]` with the
 * dashboard's port. A page of another site that points its own name at
 * 127.0.0.1 (DNS rebinding) sends its own name as `Host`, so it reads and
 * writes nothing.
 */
export function loopbackHostOnly(port: () => number): RequestHandler {
  return (req, res, next) => {
    const host = req.headers.host?.toLowerCase();
    const p = port();
    const allowed = [`127.0.0.1:${p}`, `localhost:${p}`, `[::1]:${p}`];
    if (host !== undefined && allowed.includes(host)) return next();
    refuse(
      res,
      421,
      'HOST_NOT_ALLOWED',
      `without credentials the dashboard answers only to http://127.0.0.1:${p} (or localhost, [::1]); set DASHBOARD_USER and DASHBOARD_PASSWORD to serve it under another name`,
    );
  };
}

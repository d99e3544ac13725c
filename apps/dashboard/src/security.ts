import type { Request, RequestHandler } from 'express';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

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
  res
    .status(403)
    .type('text/plain')
    .send('cross-site request refused: a write must come from a page of this dashboard\n');
};

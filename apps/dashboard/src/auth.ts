import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

export interface Credentials {
  user: string;
  password: string;
}

const REALM = 'rekor-budget dashboard';

/** SHA-256 first, so the comparison takes the same time whatever the lengths. */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/** Parses an `Authorization: Basic ...` header; `undefined` when absent or malformed. */
export function parseBasicAuth(header: string | undefined): Credentials | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Whether `given` matches `expected`; user and password are both compared in constant time. */
export function credentialsMatch(given: Credentials | undefined, expected: Credentials): boolean {
  const user = sameSecret(given?.user ?? '', expected.user);
  const password = sameSecret(given?.password ?? '', expected.password);
  return given !== undefined && user && password;
}

/** HTTP basic auth on every route it guards: 401 with `WWW-Authenticate` otherwise. */
export function basicAuth(expected: Credentials): RequestHandler {
  return (req, res, next) => {
    if (credentialsMatch(parseBasicAuth(req.headers.authorization), expected)) return next();
    res
      .status(401)
      .set('WWW-Authenticate', `Basic realm="${REALM}", charset="UTF-8"`)
      .type('text/plain')
      .send('authentication required\n');
  };
}

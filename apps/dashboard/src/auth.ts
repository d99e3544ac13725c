import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { refuse } from './security';

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

export interface FailedLoginLimit {
  /** Failed logins from one address before it is locked out. @defaultValue 10 */
  maxFailures?: number;
  /** The window failures are counted in, and how long a lockout lasts. @defaultValue 600 000 (10 min) */
  windowMs?: number;
  /** Epoch ms. @defaultValue Date.now */
  now?: () => number;
}

/** Addresses tracked at most; beyond, the oldest are forgotten (a flood cannot grow the map). */
const MAX_TRACKED = 10_000;

/**
 * Counts failed logins per client address. After `maxFailures` within
 * `windowMs`, every request of that address that carries credentials is
 * answered 429 without checking them (a right guess is not told apart),
 * until `windowMs` after the first failure. Behind a reverse proxy every
 * client shares the proxy's address: the limit then applies to all.
 */
export class FailedLogins {
  private readonly max: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(options: FailedLoginLimit = {}) {
    this.max = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 600_000;
    this.now = options.now ?? Date.now;
  }

  /** Seconds until `address` may try again, or 0 when it may now. */
  lockedFor(address: string): number {
    const f = this.current(address);
    if (f === undefined || f.count < this.max) return 0;
    return Math.max(1, Math.ceil((f.since + this.windowMs - this.now()) / 1000));
  }

  fail(address: string): void {
    const f = this.current(address);
    if (f) {
      f.count += 1;
      return;
    }
    if (this.failures.size >= MAX_TRACKED) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(address, { count: 1, since: this.now() });
  }

  succeed(address: string): void {
    this.failures.delete(address);
  }

  private current(address: string) {
    const f = this.failures.get(address);
    if (f && this.now() - f.since >= this.windowMs) {
      this.failures.delete(address);
      return undefined;
    }
    return f;
  }
}

/** Whether the request carries the expected basic-auth credentials. */
export function isAuthenticated(req: Request, expected: Credentials | undefined): boolean {
  return expected !== undefined && credentialsMatch(parseBasicAuth(req.headers.authorization), expected);
}

/**
 * HTTP basic auth on every route it guards: 401 with `WWW-Authenticate`
 * otherwise, and 429 (`TOO_MANY_FAILED_LOGINS`, `Retry-After`) for an address
 * that failed too often (see `FailedLogins`). A request without credentials
 * (a browser's first) is not a failure.
 */
export function basicAuth(expected: Credentials, limit: FailedLogins = new FailedLogins()): RequestHandler {
  return (req, res, next) => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const given = req.headers.authorization;
    if (given !== undefined) {
      const wait = limit.lockedFor(address);
      if (wait > 0) {
        res.set('Retry-After', String(wait));
        refuse(
          res,
          429,
          'TOO_MANY_FAILED_LOGINS',
          `too many failed logins from this address; try again in ${wait} s`,
        );
        return;
      }
      if (credentialsMatch(parseBasicAuth(given), expected)) {
        limit.succeed(address);
        return next();
      }
      limit.fail(address);
    }
    res
      .status(401)
      .set('WWW-Authenticate', `Basic realm="${REALM}", charset="UTF-8"`)
      .type('text/plain')
      .send('authentication required\n');
  };
}

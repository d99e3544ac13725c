import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { listenFailureText } from '@rekor-budget/core';
import { MetricsError } from './errors';

/** Credentials of the metrics endpoint. */
export interface MetricsAuth {
  user?: string;
  password?: string;
  token?: string;
}

/** The result of one readiness check, e.g. `redis`, `postgres`, `rekor`. */
export interface CheckResult {
  ok: boolean;
  detail?: string;
}

export type ReadinessChecks = () => Promise<Record<string, CheckResult>>;

export interface MetricsServerOptions {
  registry: Registry;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /**
   * Interface to listen on. Per-tenant series are there for anyone who can
   * connect: listen on another interface only with `auth`, or on a network
   * only Prometheus reaches.
   * @defaultValue '127.0.0.1'
   */
  host?: string;
  /**
   * Credentials `/metrics` requires: HTTP basic auth (`user` and `password`),
   * a bearer token (`token`), or either when both are given. `/readyz` shows
   * its checks only to a request that presents them; `/healthz` stays open.
   * @defaultValue none: `/metrics` is open, `/readyz` answers its status only
   */
  auth?: MetricsAuth;
  /** Checks behind `/readyz`: ready when every check is ok. */
  readiness: ReadinessChecks;
  /**
   * How long `/readyz` waits for the checks before answering 503.
   * @defaultValue 5000
   */
  readinessTimeoutMs?: number;
}

export interface MetricsServer {
  /** Base URL, e.g. `http://127.0.0.1:9464`. */
  url: string;
  port: number;
  /** Stop listening and drop open connections. */
  close(): Promise<void>;
}

/** The JSON body of `/readyz`: `checks` and `error` only for an authenticated request. */
export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  checks?: Record<string, CheckResult>;
  error?: string;
}

/** SHA-256 first, so the comparison takes the same time whatever the lengths. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Whether the request presents the configured credentials (never true without `auth`). */
function authenticated(req: IncomingMessage, auth: MetricsAuth | undefined): boolean {
  if (auth === undefined) return false;
  const header = req.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (auth.token !== undefined && bearer !== undefined) return sameSecret(bearer, auth.token);
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)?.[1];
  if (auth.user === undefined || auth.password === undefined || basic === undefined) return false;
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = sameSecret(decoded.slice(0, colon < 0 ? 0 : colon), auth.user);
  const password = sameSecret(decoded.slice(colon + 1), auth.password);
  return colon >= 0 && user && password;
}

function challenge(auth: MetricsAuth): string {
  const basic = auth.user !== undefined ? ['Basic realm="rekor-budget metrics", charset="UTF-8"'] : [];
  return [...basic, ...(auth.token !== undefined ? ['Bearer realm="rekor-budget metrics"'] : [])].join(', ');
}

async function runChecks(readiness: ReadinessChecks, timeoutMs: number): Promise<ReadinessReport> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const checks = await Promise.race([
      Promise.resolve().then(readiness),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`checks did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    const entries = Object.entries(checks ?? {});
    const ready = entries.length > 0 && entries.every(([, c]) => c?.ok === true);
    return { status: ready ? 'ready' : 'not_ready', checks: checks ?? {} };
  } catch (e) {
    return { status: 'not_ready', checks: {}, error: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(head ? undefined : body);
}

function handler(o: Required<Omit<MetricsServerOptions, 'host' | 'auth'>> & { auth?: MetricsAuth }) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const head = req.method === 'HEAD';
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const known = path === '/metrics' || path === '/healthz' || path === '/readyz';
    if (!known) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false);
    }
    if (path === '/healthz') return send(res, 200, 'text/plain; charset=utf-8', 'ok\n', head);
    const authed = authenticated(req, o.auth);
    if (path === '/readyz') {
      const report = await runChecks(o.readiness, o.readinessTimeoutMs);
      const code = report.status === 'ready' ? 200 : 503;
      // which dependency failed and why is for operators only
      const body = authed ? report : { status: report.status };
      return send(res, code, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`, head);
    }
    if (o.auth !== undefined && !authed) {
      res.setHeader('WWW-Authenticate', challenge(o.auth));
      return send(res, 401, 'text/plain; charset=utf-8', 'authentication required\n', head);
    }
    try {
      const text = await o.registry.metrics();
      send(res, 200, o.registry.contentType, text, head);
    } catch (e) {
      send(
        res,
        500,
        'text/plain; charset=utf-8',
        `metrics unavailable: ${e instanceof Error ? e.message : String(e)}\n`,
        head,
      );
    }
  };
}

/**
 * Serve `/metrics` (Prometheus text exposition of `registry`, behind `auth`
 * when given), `/healthz` (200 `ok` while the process runs) and `/readyz`
 * (200 when every readiness check is ok, else 503; JSON body with each check
 * for an authenticated request, the status alone otherwise). Anything else
 * is 404. Listens on 127.0.0.1 unless `host` says otherwise.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry, port, readiness } = options;
  const host = options.host ?? '127.0.0.1';
  const auth = options.auth;
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 5000;
  if (!registry || typeof registry.metrics !== 'function') {
    throw new MetricsError(
      'INVALID_OPTION',
      'startMetricsServer option registry: pass a prom-client Registry',
    );
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new MetricsError(
      'INVALID_OPTION',
      `startMetricsServer option port: ${String(port)} is not a port (0..65535; 0 picks a free one)`,
    );
  }
  if (typeof readiness !== 'function') {
    throw new MetricsError(
      'INVALID_OPTION',
      'startMetricsServer option readiness: pass a function returning the checks',
    );
  }
  const hasBasic = auth?.user !== undefined || auth?.password !== undefined;
  if (
    auth !== undefined &&
    ((hasBasic && (!auth.user || !auth.password)) || (!hasBasic && !auth.token) || auth.token === '')
  ) {
    throw new MetricsError(
      'INVALID_OPTION',
      'startMetricsServer option auth: give user and password, a token, or both; or leave auth out',
    );
  }
  if (!Number.isInteger(readinessTimeoutMs) || readinessTimeoutMs <= 0) {
    throw new MetricsError(
      'INVALID_OPTION',
      `startMetricsServer option readinessTimeoutMs: ${String(readinessTimeoutMs)} is not a positive integer`,
    );
  }

  const handle = handler({ registry, port, readiness, readinessTimeoutMs, ...(auth ? { auth } : {}) });
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (cause: Error & { code?: string }) =>
      reject(
        new MetricsError(
          'LISTEN_FAILED',
          `the metrics server cannot listen: ${listenFailureText(cause, { host, port, portOption: '--metrics-port (metrics.port)', hostOption: '--metrics-host' })}`,
          { cause },
        ),
      );
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const bound = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${bound}`,
    port: bound,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      })),
  };
}

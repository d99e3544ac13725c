import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenFailureText } from '@rekor-budget/core';
import { FaultController, type ActiveFault } from './faults';
import { RekorLocalError } from './errors';
import { ADMIN_FAULTS_PATH, routeAdmin } from './http/admin';
import { Listener } from './http/listener';
import { sendError, sendFailure, sendGrpcError, sendJson } from './http/respond';
import { routeApi } from './http/router';
import { TransparencyLog } from './log/transparency-log';
import { resolveOptions, type RekorApiMode, type RekorLocalOptions } from './options';
import { trustedRoot, type TrustedRootJson } from './trusted-root';
import { TimestampAuthority } from './tsa/authority';

/** A running rekor-local. */
export interface RekorLocalServer {
  /** Base URL of the Rekor API, e.g. `http://127.0.0.1:43121`. */
  readonly url: string;
  readonly port: number;
  /** Base URL of the admin listener, when `adminPort` was given. */
  readonly adminUrl: string | undefined;
  /** Log ID, hex SHA-256 of the log key's DER SPKI. */
  readonly logId: string;
  /** The log's public key, PEM. */
  readonly publicKeyPem: string;
  /** Fault injection; `set` throws FAULTS_DISABLED unless started with `faults`. */
  readonly faults: FaultController;
  /** The Rekor APIs served (`--api`). */
  readonly api: RekorApiMode;
  /** The sigstore TrustedRoot naming this log and its TSA (as served at `/trusted_root.json`). */
  trustedRoot(): TrustedRootJson;
  /** Committed tree size. */
  treeSize(): number;
  /** Stops listening, resets open connections, waits for pending writes. */
  close(): Promise<void>;
}

/** Starts a Rekor-compatible log on `options.port` serving the log in `options.dataDir`. */
export async function startRekorLocal(options: RekorLocalOptions): Promise<RekorLocalServer> {
  const o = resolveOptions(options);
  const faults = new FaultController(o.faults !== false);
  const urlOf = (port: number) => `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  let publicUrl = o.publicUrl;
  let log: TransparencyLog | undefined;
  let tsa: TimestampAuthority | undefined;

  const handleAdmin = (req: IncomingMessage, res: ServerResponse) => {
    routeAdmin(req, res, faults).catch((e) => sendFailure(res, e));
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://rekor-local');
    } catch {
      return sendError(res, 400, 'malformed request URL');
    }
    if (url.pathname === ADMIN_FAULTS_PATH) return handleAdmin(req, res);
    if (!log || !tsa) return sendError(res, 503, 'starting');
    const ctx = { log, tsa, api: o.api, bodyLimitBytes: o.bodyLimitBytes, trustedRoot: root };
    void withFault(faults.take(req.method), req, res, () => routeApi(req, res, url, ctx)).catch((e) =>
      sendFailure(res, e),
    );
  };

  const api = new Listener(handle, o.host, o.port);
  const admin = o.adminPort === undefined ? undefined : new Listener(handleAdmin, o.host, o.adminPort);
  await api.up().catch((e: unknown) => {
    throw listenFailed(e, o.host, o.port, '--port');
  });
  try {
    publicUrl ??= urlOf(api.port);
    log = new TransparencyLog({
      dataDir: o.dataDir,
      name: o.name ?? new URL(publicUrl).hostname,
      fsync: o.fsync,
      now: o.now,
      origin: o.api === 'v2' ? 'c2sp' : 'rekor-v1',
    });
    tsa = await TimestampAuthority.open(o.dataDir, o.now);
    await admin?.up().catch((e: unknown) => {
      throw listenFailed(e, o.host, o.adminPort!, '--admin-port');
    });
  } catch (e) {
    await api.down(true);
    await log?.close();
    throw e;
  }
  const opened = log;
  const authority = tsa;
  const baseUrl = publicUrl;
  function root(): TrustedRootJson {
    return trustedRoot(opened.key, baseUrl, opened.meta.createdAt, {
      chain: authority.chain,
      validFrom: authority.validFrom,
    });
  }

  let closing = false;
  faults.onChange((fault) => {
    if (closing) return;
    if (fault?.mode === 'offline' && fault.remaining === null) void api.down();
    else if (!api.listening) {
      // the outage ended but the port could not be bound again: say so, the log stays down
      api
        .up()
        .catch((e: Error) =>
          process.emitWarning(`rekor-local: cannot listen again on port ${api.port}: ${e.message}`),
        );
    }
  });
  if (typeof o.faults === 'object') faults.set(o.faults);

  return {
    url: urlOf(api.port),
    port: api.port,
    adminUrl: admin && urlOf(admin.port),
    logId: opened.logIdHex,
    api: o.api,
    publicKeyPem: opened.key.publicPem(),
    faults,
    trustedRoot: root,
    treeSize: () => opened.size,
    async close() {
      closing = true;
      await Promise.all([api.down(true), admin?.down(true)]);
      await opened.close();
    },
  };
}

/** Applies the fault taken for this request, or runs it as usual. */
async function withFault(
  fault: ActiveFault | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  next: () => Promise<void>,
): Promise<void> {
  switch (fault?.mode) {
    case undefined:
      return next();
    case '429':
      return sendError(res, 429, 'rate limited (injected fault)', {
        'Retry-After': String(fault.retryAfterSeconds),
      });
    case '503':
      return sendError(res, 503, 'service unavailable (injected fault)');
    case 'frozen':
      // a frozen Rekor v2 shard: read-only, writes answer 405 (the TSA is another service and goes on)
      if (req.method === 'POST' && !req.url?.startsWith('/api/v1/timestamp')) {
        // rekor-tiles' answer when read-only (pkg/server/service.go): 405, gRPC Unimplemented
        return sendGrpcError(res, 405, 'This log has been frozen, please switch to the latest log.');
      }
      return next();
    case 'malformed':
      // a success that is not what the API describes (a broken log or proxy); nothing is logged
      return sendJson(res, req.method === 'POST' ? 201 : 200, {
        message: 'this is not a log entry nor log info (injected fault)',
      });
    case 'offline':
      req.socket.destroy();
      return;
    case 'slow':
      await new Promise((r) => setTimeout(r, fault.delayMs).unref());
      return next();
    case 'hang':
      // the request is handled (a valid POST is logged) but the answer never
      // leaves: the client cannot tell whether its entry exists
      res.writeHead = () => res;
      res.end = () => res;
      return next();
  }
}

/** A port or host rekor-local cannot listen on, told in the flags that set it. */
function listenFailed(cause: unknown, host: string, port: number, portOption: string): RekorLocalError {
  return new RekorLocalError(
    'LISTEN_FAILED',
    `rekor-local cannot listen: ${listenFailureText(cause, { host, port, portOption, hostOption: '--host' })}`,
    { cause },
  );
}

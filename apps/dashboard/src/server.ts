import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type ErrorRequestHandler } from 'express';
import { errorFields, isSha256Digest, listenFailureText, redactText, truncate } from '@rekor-budget/core';
import type { Runtime } from '@rekor-budget/runtime';
import { basicAuth, FailedLogins, isAuthenticated, type Credentials, type FailedLoginLimit } from './auth';
import { collectBudgetView } from './budget-view';
import { LOCAL_TIMES_SCRIPT, renderBudgetPage } from './budget-page';
import { DashboardError } from './error';
import { queueBoard } from './queues';
import { loopbackHostOnly, refuse, sameOriginWrites, securityHeaders } from './security';

export interface DashboardOptions {
  /**
   * The process's runtime: configuration (`dashboard.*`), Redis, Postgres,
   * Rekor, budgets and metrics. The caller closes it after `close()`.
   */
  runtime: Runtime;
  /** Port to listen on; 0 picks a free one. @defaultValue config.dashboard.port */
  port?: number;
  /** Interface to listen on. @defaultValue all interfaces; `127.0.0.1` with `insecureLocal` */
  host?: string;
  /**
   * Start without credentials, listening on 127.0.0.1 only (whatever `host`
   * says). With credentials set, they are still required. @defaultValue false
   */
  insecureLocal?: boolean;
  /** Basic-auth credentials. @defaultValue config.dashboard.user and password */
  credentials?: Credentials;
  /** Lockout after failed logins, per client address. @defaultValue 10 failures per 10 min */
  failedLoginLimit?: FailedLoginLimit;
}

export interface RunningDashboard {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  port: number;
  host: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * The credentials the dashboard will require, or `undefined` under
 * `insecureLocal` without any; throws `DASHBOARD_CREDENTIALS_MISSING` otherwise.
 * Callers may check this before opening any connection.
 */
export function dashboardCredentials(
  given: { user?: string; password?: string },
  insecureLocal = false,
): Credentials | undefined {
  const { user, password } = given;
  if (user !== undefined && password !== undefined && user !== '' && password !== '')
    return { user, password };
  if (insecureLocal) return undefined;
  throw new DashboardError(
    'DASHBOARD_CREDENTIALS_MISSING',
    'the dashboard has no credentials: set DASHBOARD_USER and DASHBOARD_PASSWORD (or attestor.rekor.dashboard.user/password), or pass --insecure-local to serve without them on 127.0.0.1 only',
  );
}

function listen(app: express.Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', (cause: NodeJS.ErrnoException) =>
      reject(
        new DashboardError(
          'DASHBOARD_LISTEN_FAILED',
          `the dashboard cannot listen: ${listenFailureText(cause, { host, port, portOption: '--port (dashboard.port)', hostOption: '--host' })}`,
          { cause },
        ),
      ),
    );
  });
}

/** Starts the dashboard: bull-board at `/queues`, the budget view at `/budgets` and `/budgets.json`. */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const { runtime } = options;
  const { config } = runtime;
  const logger = runtime.logger.child({ component: 'dashboard' });
  const credentials = dashboardCredentials(options.credentials ?? config.dashboard, options.insecureLocal);
  const host = options.insecureLocal ? '127.0.0.1' : (options.host ?? '0.0.0.0');
  const port = options.port ?? config.dashboard.port;

  const app = express();
  app.disable('x-powered-by');
  let bound = port;
  // On loopback only loopback names are answered: a page of a rebinding site sends its own name
  if (options.insecureLocal) app.use(loopbackHostOnly(() => bound));
  app.use(securityHeaders);
  app.get('/healthz', (_req, res) => void res.type('text/plain').send('ok\n'));
  app.get('/readyz', async (req, res) => {
    const checks = await runtime.readiness();
    const ok = Object.values(checks).every((c) => c.ok);
    const status = ok ? 'ready' : 'not_ready';
    // what failed and why is for operators: only with credentials
    res.status(ok ? 200 : 503).json(isAuthenticated(req, credentials) ? { status, checks } : { status });
  });
  if (credentials) app.use(basicAuth(credentials, new FailedLogins(options.failedLoginLimit)));
  // The scrape-time gauges (queue depth, offline depth, budgets) of the
  // runtime; a dashboard alone submits nothing, so its counters stay at zero.
  app.get('/metrics', async (_req, res) => {
    res.type(runtime.registry.contentType).send(await runtime.registry.metrics());
  });
  app.use(sameOriginWrites);
  app.get('/', (_req, res) => res.redirect(302, 'budgets'));
  app.get('/budgets', async (_req, res) => {
    res
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(renderBudgetPage(await collectBudgetView(runtime)));
  });
  app.get('/budgets-time.js', (_req, res) => {
    res.type('application/javascript').set('Cache-Control', 'no-store').send(LOCAL_TIMES_SCRIPT);
  });
  app.get('/budgets.json', async (_req, res) => {
    res.set('Cache-Control', 'no-store').json(await collectBudgetView(runtime));
  });
  // a receipt's sigstore bundle, as `rekor-budget verify --bundle` reads it
  app.get('/receipts/:digest/bundle.json', async (req, res) => {
    const digest = req.params.digest;
    const log = typeof req.query.log === 'string' ? req.query.log : undefined;
    const form = 'use /receipts/sha256:<64 lower-case hex>/bundle.json?log=<log URL>';
    if (!isSha256Digest(digest)) {
      refuse(res, 400, 'BAD_REQUEST', `${JSON.stringify(truncate(digest))} is not a content digest; ${form}`);
      return;
    }
    if (log === undefined) {
      const why = req.query.log === undefined ? 'the log is missing' : 'the log is given more than once';
      refuse(res, 400, 'BAD_REQUEST', `${why}; ${form}`);
      return;
    }
    const receipt = await runtime.receipts.find(digest, log);
    if (!receipt) {
      res.status(404).type('text/plain').send(`dashboard: no receipt of ${digest} from that log\n`);
      return;
    }
    res
      .set('Cache-Control', 'no-store')
      .set('Content-Disposition', `inline; filename="${digest.replace(':', '-')}.bundle.json"`)
      .json(receipt.bundle);
  });
  app.use(
    '/queues',
    queueBoard({
      queues: runtime.queues,
      basePath: '/queues',
      readOnly: config.dashboard.readOnly,
      logger,
    }),
  );
  const onError: ErrorRequestHandler = (err: Error & { status?: unknown }, req, res, _next) => {
    // a request express could not read (a path that is not valid percent-encoding): the client's fault
    if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
      refuse(res, err.status, 'BAD_REQUEST', `the request cannot be read (${truncate(err.message)})`);
      return;
    }
    logger.warn({ path: req.path, ...errorFields(err) }, 'request failed');
    res
      .status(503)
      .type('text/plain')
      .send(`dashboard: ${redactText(truncate(err.message))}\n`);
  };
  app.use(onError);

  const server = await listen(app, port, host);
  bound = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${bound}`,
    port: bound,
    host,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

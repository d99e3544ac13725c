import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type ErrorRequestHandler } from 'express';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { createRedisKeys, TIERS, type RekorConfig, type Tier } from '@rekor-budget/core';
import { createBudget, syncRedisClock } from '@rekor-budget/budget';
import { createDb, type Database } from '@rekor-budget/db';
import { createReceiptStore } from '@rekor-budget/rekor';
import { basicAuth, type Credentials } from './auth';
import { collectBudgetView, type BudgetViewSources } from './budget-view';
import { renderBudgetPage } from './budget-page';
import { DashboardError } from './error';
import { queueBoard } from './queues';
import { sameOriginWrites, securityHeaders } from './security';
import { probeRekor } from './probe';
import { OfflineQueue } from '@rekor-budget/producer';
import { RekorMetrics } from '@rekor-budget/metrics';
import { metricsSources } from '@rekor-budget/worker';
import { Registry } from 'prom-client';

export interface DashboardOptions {
  /** The loaded configuration: Redis, Postgres, Rekor, budget limits, `dashboard.*`. */
  config: RekorConfig;
  /** Port to listen on; 0 picks a free one. @defaultValue config.dashboard.port */
  port?: number;
  /** Interface to listen on. @defaultValue all interfaces; `127.0.0.1` with `insecureLocal` */
  host?: string;
  /**
   * Start without credentials, listening on 127.0.0.1 only (whatever `host`
   * says). With credentials set, they are still required. @defaultValue false
   */
  insecureLocal?: boolean;
  /** A Redis connection to use (not closed by `close()`). @defaultValue a new one to config.redis.url */
  redis?: Redis;
  /** A database to use (not closed by `close()`). @defaultValue a new pool to config.database.url */
  db?: Kysely<Database>;
  /** The budget clock (ms). @defaultValue the Redis server's clock, re-synced every minute */
  clock?: () => number;
}

export interface RunningDashboard {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  port: number;
  host: string;
  /** Stops listening, drops open connections and closes what the dashboard opened. */
  close(): Promise<void>;
}

function credentialsOf(options: DashboardOptions): Credentials | undefined {
  const { user, password } = options.config.dashboard;
  if (user !== undefined && password !== undefined && user !== '' && password !== '')
    return { user, password };
  if (options.insecureLocal) return undefined;
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
          `the dashboard cannot listen on ${host}:${port} (${cause.code ?? cause.message}); pick another port with --port`,
          { cause },
        ),
      ),
    );
  });
}

/** Starts the dashboard: bull-board at `/queues`, the budget view at `/budgets` and `/budgets.json`. */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const { config } = options;
  const credentials = credentialsOf(options);
  const host = options.insecureLocal ? '127.0.0.1' : (options.host ?? '0.0.0.0');
  const port = options.port ?? config.dashboard.port;
  const keys = createRedisKeys(config.redis.keyPrefix);
  const ownRedis = options.redis === undefined;
  const redis = options.redis ?? new Redis(config.redis.url, { maxRetriesPerRequest: null });
  const ownDb = options.db === undefined;
  const db = options.db ?? createDb({ url: config.database.url, applicationName: 'rekor-budget-dashboard' });
  const closers: (() => Promise<unknown>)[] = [];
  let clockTimer: NodeJS.Timeout | undefined;
  const release = async () => {
    for (const close of closers) await close().catch(() => undefined);
    clearInterval(clockTimer);
    if (ownDb) await db.destroy().catch(() => undefined);
    if (ownRedis) await redis.quit().catch(() => redis.disconnect());
  };

  try {
    let clock = options.clock;
    if (clock === undefined) {
      const redisClock = await syncRedisClock(redis);
      clockTimer = setInterval(() => void redisClock.sync().catch(() => undefined), 60_000);
      clockTimer.unref();
      clock = redisClock.now;
    }
    const queues = Object.fromEntries(
      TIERS.map((t) => [t, new Queue(keys.queueName(t), { connection: redis, prefix: keys.queuePrefix })]),
    ) as Record<Tier, Queue>;
    closers.push(() => Promise.all(Object.values(queues).map((q) => q.close())));
    const sources: BudgetViewSources = {
      config,
      budget: createBudget({ redis, keys, limits: config.budget, clock }),
      queues,
      db,
      receipts: createReceiptStore(db),
      clock,
    };

    // The scrape-time gauges (queue depth, offline depth, budgets); this
    // process submits nothing, so its counters stay at zero.
    const registry = new Registry();
    const offline = new OfflineQueue(db);
    new RekorMetrics({
      registry,
      sources: metricsSources({ queues, offline, budget: sources.budget }),
    });

    const app = express();
    app.disable('x-powered-by');
    app.use(securityHeaders);
    app.get('/healthz', (_req, res) => void res.type('text/plain').send('ok\n'));
    app.get('/readyz', async (_req, res) => {
      const [r, p, k] = await Promise.allSettled([
        redis.ping(),
        db.selectFrom('attestor.rekor_quotas').select('tenant_id').limit(1).execute(),
        config.offline.airGapped ? Promise.resolve(undefined) : probeRekor(config.serverUrl, 2_000),
      ]);
      const check = (x: PromiseSettledResult<unknown>) =>
        x.status === 'fulfilled'
          ? { ok: true }
          : { ok: false, detail: String((x.reason as Error)?.message ?? x.reason) };
      const rekor =
        k.status === 'fulfilled' && k.value && (k.value as { state: string }).state !== 'reachable'
          ? { ok: false, detail: (k.value as { detail: string }).detail }
          : check(k);
      const checks = { redis: check(r), postgres: check(p), rekor };
      const ok = Object.values(checks).every((c) => c.ok);
      res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', checks });
    });
    if (credentials) app.use(basicAuth(credentials));
    app.get('/metrics', async (_req, res) => {
      res.type(registry.contentType).send(await registry.metrics());
    });
    app.use(sameOriginWrites);
    app.get('/', (_req, res) => res.redirect(302, 'budgets'));
    app.get('/budgets', async (_req, res) => {
      res
        .set('Cache-Control', 'no-store')
        .type('html')
        .send(renderBudgetPage(await collectBudgetView(sources)));
    });
    app.get('/budgets.json', async (_req, res) => {
      res.set('Cache-Control', 'no-store').json(await collectBudgetView(sources));
    });
    app.use('/queues', queueBoard({ queues, basePath: '/queues', readOnly: config.dashboard.readOnly }));
    const onError: ErrorRequestHandler = (err: Error, _req, res, _next) => {
      res.status(503).type('text/plain').send(`dashboard: ${err.message}\n`);
    };
    app.use(onError);

    const server = await listen(app, port, host);
    closers.unshift(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const bound = (server.address() as AddressInfo).port;
    const urlHost =
      host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    let closed = false;
    return {
      url: `http://${urlHost}:${bound}`,
      port: bound,
      host,
      async close() {
        if (closed) return;
        closed = true;
        await release();
      },
    };
  } catch (e) {
    await release();
    throw e;
  }
}

import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  createRedisConnection,
  createRedisKeys,
  describeRedis,
  InputError,
  redactUrl,
  redisMasters,
  type Env,
  type Logger,
  type RekorConfig,
} from '@rekor-budget/core';
import { writeKeyPair } from '@rekor-budget/rekor';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { requireDurableRedis, type Runtime } from '@rekor-budget/runtime';
import { runWorkers, type RunningWorkers, type RunWorkersOptions } from '@rekor-budget/worker';
import type { CliIo } from '../io';
import { probePostgres, probeRedis } from '../probe';
import { runMigrations } from '../commands/migrate';
import { databaseName, dropDatabase, ensureDatabase, withDatabase } from '../database';
import { chooseNamespace, listenOn } from '../namespace';
import { DEMO_TENANTS } from './workload';
import { APP_NAME, serviceRuntime } from '../wiring';

const PUBLIC_REKOR = 'https://rekor.sigstore.dev';
/** rekor-local's port unless another is chosen or it is taken. */
export const DEFAULT_REKOR_PORT = 3030;

/** Deletes every key under the configured prefix (every layout, every master), never anything else. */
async function deletePrefix(config: RekorConfig['redis']): Promise<void> {
  const redis = createRedisConnection(config, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const { scanPatterns } = createRedisKeys(config.keyPrefix, { topology: config.topology });
    for (const { client } of redisMasters(redis)) {
      for (const pattern of scanPatterns) {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
          cursor = next;
          // one key per DEL: keys of one scan may lie in different cluster slots
          if (keys.length > 0) await keys.reduce((p, key) => p.del(key), client.pipeline()).exec();
        } while (cursor !== '0');
      }
    }
  } finally {
    redis.disconnect();
  }
}

/** The port in environment variable `name`, if set; one that is not a port is refused, not ignored. */
export function envPort(env: Env, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new InputError(
      'INVALID_INPUT',
      name,
      `${JSON.stringify(value.slice(0, 40))} is not a TCP port; use 0-65535 (0 picks a free one), or unset it`,
    );
  }
  return Number(value);
}
const HOW_TO_START = {
  redis:
    'start it with `redis-server --daemonize yes`, or `docker compose up -d redis` and REDIS_URL=redis://127.0.0.1:16379, or point REDIS_URL at yours',
  postgres:
    'start it with `pg_ctlcluster <version> main start`, or `docker compose up -d postgres` and DATABASE_URL=postgres://postgres@127.0.0.1:15432/postgres, or point DATABASE_URL at yours',
};

export interface LocalSystemOptions {
  config: RekorConfig;
  /** Where the configuration came from (`defaults` enables the demo settings). */
  source: string;
  io: CliIo;
  say(line: string): void;
  /** Where the workers and the runtime log. */
  logger: Logger;
  /** Development key and rekor-local log live here. */
  workDir: string;
  /** Port of rekor-local: as given; `undefined`: 3030, or a free one when 3030 is taken. */
  rekorPort?: number;
  /** Port of /metrics; `null` for none; `undefined`: `metrics.port`, or a free one when it is taken. */
  metricsPort?: number | null;
  /** Redis key prefix (`--prefix`); else REDIS_PREFIX, else the checkout's own (see `chooseNamespace`). */
  prefix?: string;
  /**
   * `demo --once`: its own namespace and log (apart from `start`'s), emptied
   * first, so every run starts from nothing and its numbers are the same.
   */
  fresh?: boolean;
  /** Budget and worker clock (a demo may compress time). */
  clock?: () => number;
  /** Drain probe interval in the demo settings. @defaultValue 5000 */
  probeIntervalMs?: number;
}

export interface LocalSystem {
  config: RekorConfig;
  rekorLocal?: RekorLocalServer;
  /** The one runtime of the process: workers, producer and dashboard share it. */
  runtime: Runtime;
  workers: RunningWorkers;
  close(): Promise<void>;
}

/**
 * Brings the whole system up in this process: checks Redis and Postgres,
 * migrates, makes a development key if none is configured, starts
 * rekor-local unless Rekor is configured elsewhere, and runs every worker.
 * Resolves `undefined` (after saying how to fix it) when a service is down.
 */
export async function startLocalSystem(o: LocalSystemOptions): Promise<LocalSystem | undefined> {
  const { io, say } = o;
  const ns = chooseNamespace({
    config: o.config,
    source: o.source,
    env: io.env,
    cwd: io.cwd,
    ...(o.prefix === undefined ? {} : { prefix: o.prefix }),
    // the demo's compressed clock stays in a namespace of its own
    ...(o.fresh ? { purpose: 'demo' as const } : {}),
  });
  let config = ns.config;
  say(ns.line);
  const [redis, postgres] = await Promise.all([
    probeRedis(config.redis),
    // this checkout's own database may not exist yet: the server answering is what counts
    probePostgres(ns.ownDatabase ? withDatabase(config.database.url, 'postgres') : config.database.url),
  ]);
  say(
    `redis     ${describeRedis(config.redis)}: ${redis.ok ? `up (${redis.detail})` : `DOWN (${redis.detail})`}`,
  );
  say(
    `postgres  ${redactUrl(config.database.url)}: ${postgres.ok ? `up (${postgres.detail})` : `DOWN (${postgres.detail})`}`,
  );
  if (!redis.ok) io.err(`Redis does not answer: ${HOW_TO_START.redis}`);
  if (!postgres.ok) io.err(`Postgres does not answer: ${HOW_TO_START.postgres}`);
  if (!redis.ok || !postgres.ok) return undefined;

  const rekorData = join(o.workDir, o.fresh ? 'demo-rekor-local' : 'rekor-local');
  if (o.fresh) {
    // the demo's own namespace and log only: what an earlier demo left there
    if (ns.ownPrefix) await deletePrefix(config.redis);
    if (ns.ownDatabase) await dropDatabase(config.database.url);
    rmSync(rekorData, { recursive: true, force: true });
    if (ns.ownPrefix || ns.ownDatabase)
      say('demo      starts from nothing: what an earlier demo left in its namespace is gone');
  }
  if (ns.ownDatabase && (await ensureDatabase(config.database.url)))
    say(`database  created ${databaseName(config.database.url)}`);
  const applied = await runMigrations(config.database.url);
  say(`schema    attestor: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);

  if (o.source === 'defaults') {
    // No configuration file: settings that let a short run show every path.
    const probe = o.probeIntervalMs ?? 5_000;
    config = {
      ...config,
      tier: 'with-edges',
      retry: { ...config.retry, initialDelayMs: 1_000, maxDelayMs: 4_000 },
      offline: { ...config.offline, probeIntervalMs: probe },
    };
    say(
      `demo settings (no attestor.yaml): tier with-edges, retries after 1 s and 2 s, Rekor probed every ${probe / 1000} s`,
    );
  } else {
    say(
      `settings  as in ${o.source}, without the demo settings (tier ${config.tier}${config.tier === 'graph-only' ? ': the demo’s edge bundles are refused' : ''}, first retry after ${config.retry.initialDelayMs / 1000} s)`,
    );
  }
  // the demo's tenants by name, unless the configuration names them
  config = {
    ...config,
    tenants: { ...Object.fromEntries(DEMO_TENANTS.map((t) => [t.id, t.name])), ...config.tenants },
  };

  mkdirSync(o.workDir, { recursive: true });
  if (!config.signing.keyPath) {
    const keyPath = join(o.workDir, 'dev-signing-key.pem');
    if (!existsSync(keyPath)) await writeKeyPair(keyPath);
    io.err(
      `WARNING: no signing key configured; using the development key ${keyPath} (public key ${keyPath}.pub). ` +
        'Set SIGNING_KEY or signing.keyPath for real use.',
    );
    config = { ...config, signing: { ...config.signing, keyPath } };
  }

  let rekorLocal: RekorLocalServer | undefined;
  // the demo's made-up scans go to its own rekor-local, never to a configured log: entries
  // in a transparency log stay there for good
  if (o.fresh || (config.serverUrl === PUBLIC_REKOR && !io.env.REKOR_URL)) {
    const dataDir = rekorData;
    rekorLocal = await listenOn('rekor-local', DEFAULT_REKOR_PORT, o.rekorPort, say, (port) =>
      startRekorLocal({ port, dataDir, faults: true }),
    );
    config = { ...config, serverUrl: rekorLocal.url };
    if (o.fresh) {
      // v1 on rekor-local, whatever shards, TSA or trusted root the configuration names
      config = {
        ...config,
        apiVersion: 1,
        signingConfig: undefined,
        trustedRoot: undefined,
        timestampAuthority: { url: undefined },
      };
    }
    say(
      `rekor     rekor-local at ${rekorLocal.url} (log ${dataDir}, trusted root ${rekorLocal.url}/trusted_root.json)`,
    );
  } else {
    say(`rekor     ${redactUrl(config.serverUrl)} (configured)`);
  }

  let runtime: Runtime | undefined;
  let workers: RunningWorkers;
  try {
    runtime = await serviceRuntime(config, o.logger, APP_NAME.local, o.clock ? { clock: o.clock } : {});
    if (config.redis.requireDurable) {
      // a local run may use any Redis; say what production workers would refuse
      try {
        await requireDurableRedis(config, runtime.redis);
      } catch (e) {
        io.err(
          `WARNING: ${(e as Error).message}. \`rekor-budget worker\` refuses such a Redis; this local run goes on.`,
        );
      }
    }
    const rt = runtime;
    const roles: RunWorkersOptions['roles'] = ['graph', 'edge', 'drain'];
    workers =
      o.metricsPort === null
        ? await runWorkers({ runtime: rt, roles, metricsPort: null })
        : await listenOn(
            'metrics',
            config.metrics.port,
            o.metricsPort ?? envPort(io.env, 'METRICS_PORT'),
            say,
            (metricsPort) => runWorkers({ runtime: rt, roles, metricsPort }),
          );
  } catch (e) {
    await runtime?.close();
    await rekorLocal?.close();
    throw e;
  }
  const rt = runtime;
  return {
    config,
    rekorLocal,
    runtime: rt,
    workers,
    async close() {
      await workers.close();
      await rt.close();
      await rekorLocal?.close();
    },
  };
}

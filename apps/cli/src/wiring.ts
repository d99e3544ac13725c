import type { Kysely } from 'kysely';
import type { Logger, RekorConfig } from '@rekor-budget/core';
import { createDb, type Database } from '@rekor-budget/db';
import { describeRedis } from '@rekor-budget/core';
import { createRuntime, RuntimeError, type Runtime, type RuntimeOptions } from '@rekor-budget/runtime';
import { probeRedis } from './probe';

/** Application names the CLI's processes report to Postgres. */
export const APP_NAME = {
  command: 'rekor-budget-cli',
  worker: 'rekor-budget-worker',
  dashboard: 'rekor-budget-dashboard',
  local: 'rekor-budget-local',
} as const;

/** How to start Redis, as a command's error says it. */
export const START_REDIS =
  'start it (`redis-server --daemonize yes` or `docker compose up -d redis`), or set REDIS_URL to where it runs';

/** How to reach a cluster or Sentinel, as a command's error says it. */
export const START_REDIS_NODES =
  'start the nodes, or set REDIS_CLUSTER_NODES (redis.cluster.nodes) or REDIS_SENTINEL_NODES (redis.sentinel.nodes) to where they run';

/**
 * The runtime of a one-shot command: a small pool, and Redis checked first
 * with one PING, so a Redis that is down is one line naming its URL and the
 * fix, without connection retries logged on the way.
 */
export async function commandRuntime(config: RekorConfig, logger: Logger): Promise<Runtime> {
  const redis = await probeRedis(config.redis);
  if (!redis.ok) {
    throw new RuntimeError(
      'SERVICE_UNAVAILABLE',
      'redis',
      `${describeRedis(config.redis)} does not answer (${redis.detail}); ${config.redis.topology === 'single' ? START_REDIS : START_REDIS_NODES}`,
    );
  }
  return createRuntime({ config, logger, name: APP_NAME.command, redisMode: 'command', dbPoolSize: 2 });
}

/** The runtime of a long-running process (workers, dashboard, `start`). */
export function serviceRuntime(
  config: RekorConfig,
  logger: Logger,
  name: string,
  more: Pick<RuntimeOptions, 'clock' | 'requireDurableRedis'> = {},
): Promise<Runtime> {
  return createRuntime({ config, logger, name, redisMode: 'worker', ...more });
}

/** Postgres alone, for commands that never touch Redis (receipts, offline kits). */
export function commandDb(config: RekorConfig, logger: Logger): Kysely<Database> {
  return createDb({ url: config.database.url, max: 2, applicationName: APP_NAME.command, logger });
}

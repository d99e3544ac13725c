import type { Kysely } from 'kysely';
import type { Logger, RekorConfig } from '@rekor-budget/core';
import { createDb, type Database } from '@rekor-budget/db';
import { createRuntime, type Runtime, type RuntimeOptions } from '@rekor-budget/runtime';

/** Application names the CLI's processes report to Postgres. */
export const APP_NAME = {
  command: 'rekor-budget-cli',
  worker: 'rekor-budget-worker',
  dashboard: 'rekor-budget-dashboard',
  local: 'rekor-budget-local',
} as const;

/** The runtime of a one-shot command: fails fast when Redis does not answer, a small pool. */
export function commandRuntime(config: RekorConfig, logger: Logger): Promise<Runtime> {
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

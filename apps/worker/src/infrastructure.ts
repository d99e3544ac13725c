import { sql } from 'kysely';
import { SECOND_MS } from '@rekor-budget/core';
import type { Runtime } from '@rekor-budget/runtime';

/** How long a health check of Redis or Postgres may take before the service counts as away. */
const CHECK_TIMEOUT_MS = 2 * SECOND_MS;

function answers(check: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  return Promise.race([
    check.then(
      () => true,
      () => false,
    ),
    deadline,
  ]).finally(() => clearTimeout(timer));
}

/**
 * After a job met an error: is Redis or Postgres away? Asked of the services
 * themselves (PING, SELECT 1), not read from the error, so a real bug is
 * never mistaken for an outage and an outage never spends an attempt.
 */
export async function serviceDown(
  runtime: Pick<Runtime, 'redis' | 'db'>,
): Promise<'redis' | 'postgres' | undefined> {
  const [redisUp, postgresUp] = await Promise.all([
    answers(runtime.redis.ping()),
    answers(sql`SELECT 1`.execute(runtime.db)),
  ]);
  return !redisUp ? 'redis' : !postgresUp ? 'postgres' : undefined;
}

import type { Cluster, Redis } from 'ioredis';
import { BudgetError } from './error';

/** A clock that reads the Redis server's time, kept locally as an offset from `Date.now()`. */
export interface RedisClock {
  /** Milliseconds since the epoch on the Redis server's clock (within half a round trip). */
  now(): number;
  /** `Redis TIME - Date.now()` at the last sync (ms). */
  readonly offsetMs: number;
  /** Measures the offset again; call it now and then (e.g. every minute) to follow clock drift. */
  sync(): Promise<void>;
}

/**
 * Reads Redis `TIME` once and returns a clock on the Redis server's time
 * base. Every worker host that uses it stamps budget units on the same clock,
 * whatever its own clock says. No timer is started: the caller re-syncs.
 */
export async function syncRedisClock(redis: Redis | Cluster): Promise<RedisClock> {
  let offsetMs = 0;
  const sync = async () => {
    try {
      const before = Date.now();
      const [sec, usec] = await redis.time();
      const after = Date.now();
      const server = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
      offsetMs = server - Math.round((before + after) / 2);
    } catch (cause) {
      throw new BudgetError('BUDGET_UNAVAILABLE', `Redis did not answer TIME: ${String(cause)}`, { cause });
    }
  };
  await sync();
  return {
    now: () => Date.now() + offsetMs,
    get offsetMs() {
      return offsetMs;
    },
    sync,
  };
}

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { defineLuaScripts } from '@rekor-budget/core';

const SCRIPTS = ['lock-acquire', 'lock-release'] as const;

/** A lease on one Redis key: at most one holder at a time, lost when not renewed in time. */
export interface Lease {
  /** Takes the lease, or renews it when held; `true` while this holder has it. */
  acquire(): Promise<boolean>;
  /** Gives the lease up if held. */
  release(): Promise<void>;
}

/** A lease on `key` lasting `lifetimeMs` from each `acquire`, for a holder with a random token. */
export function createLease(redis: Redis | Cluster, key: string, lifetimeMs: number): Lease {
  const script = defineLuaScripts(redis, {
    dir: join(__dirname, 'scripts'),
    names: SCRIPTS,
    commandPrefix: 'rekorQueue',
  });
  const token = randomUUID();
  return {
    async acquire() {
      return (await script('lock-acquire')([key], [token, lifetimeMs])) === 1;
    },
    async release() {
      await script('lock-release')([key], [token]);
    },
  };
}

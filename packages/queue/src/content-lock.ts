import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { defineLuaScripts, type RedisKeys } from '@rekor-budget/core';

const SCRIPTS = ['lock-acquire', 'lock-release'] as const;

/**
 * One job at a time per content digest: a drained copy and a fresh
 * submission of the same scan must not both reach Rekor. The lock is a Redis
 * key holding the job id, with a lifetime so a dead holder cannot block the
 * content for ever.
 */
export interface ContentLock {
  /** Takes the lock for `jobId` (or keeps it, if `jobId` holds it already); `true` when held. */
  acquire(contentDigest: string, jobId: string, lifetimeMs: number): Promise<boolean>;
  /** Releases the lock if `jobId` still holds it. */
  release(contentDigest: string, jobId: string): Promise<void>;
}

export function createContentLock(redis: Redis | Cluster, keys: RedisKeys): ContentLock {
  const script = defineLuaScripts(redis, {
    dir: join(__dirname, 'scripts'),
    names: SCRIPTS,
    commandPrefix: 'rekorQueue',
  });
  return {
    async acquire(contentDigest, jobId, lifetimeMs) {
      return (await script('lock-acquire')([keys.inflight(contentDigest)], [jobId, lifetimeMs])) === 1;
    },
    async release(contentDigest, jobId) {
      await script('lock-release')([keys.inflight(contentDigest)], [jobId]);
    },
  };
}

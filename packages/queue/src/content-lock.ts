import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { defineLuaScripts, type RedisKeys } from '@rekor-budget/core';

const SCRIPTS = ['lock-acquire', 'lock-extend', 'lock-release'] as const;

/**
 * One job run at a time per content digest: a drained copy and a fresh
 * submission of the same scan, or a frozen worker and the one that took its
 * job over, must not both reach Rekor. The owner is the job id and the
 * worker's lock token of this run; the lock has a lifetime so a dead holder
 * cannot block the content for ever, and is confirmed right before a POST.
 */
export interface ContentLock {
  /** Takes the lock for `owner` (or keeps it, if `owner` holds it already); `true` when held. */
  acquire(contentDigest: string, owner: string, lifetimeMs: number): Promise<boolean>;
  /** Whether `owner` still holds the lock; if so its lifetime starts again. */
  confirm(contentDigest: string, owner: string, lifetimeMs: number): Promise<boolean>;
  /** Releases the lock if `owner` still holds it. */
  release(contentDigest: string, owner: string): Promise<void>;
}

export function createContentLock(redis: Redis | Cluster, keys: RedisKeys): ContentLock {
  const script = defineLuaScripts(redis, {
    dir: join(__dirname, 'scripts'),
    names: SCRIPTS,
    commandPrefix: 'rekorQueue',
  });
  return {
    async acquire(contentDigest, owner, lifetimeMs) {
      const key = keys.inflight(contentDigest);
      // a free content (nearly always): one SET; a held one: is it this owner's?
      if ((await redis.set(key, owner, 'PX', lifetimeMs, 'NX')) === 'OK') return true;
      return (await script('lock-acquire')([key], [owner, lifetimeMs])) === 1;
    },
    async confirm(contentDigest, owner, lifetimeMs) {
      return (await script('lock-extend')([keys.inflight(contentDigest)], [owner, lifetimeMs])) === 1;
    },
    async release(contentDigest, owner) {
      await script('lock-release')([keys.inflight(contentDigest)], [owner]);
    },
  };
}

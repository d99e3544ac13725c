import { Queue, type JobType } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { errorFields, silentLogger, TIERS, type Logger, type RedisKeys, type Tier } from '@rekor-budget/core';
import type { SubmissionJobData } from './jobs';

/** Job states that wait to run: the backlog the producer bounds with `offline.maxQueueSize`. */
export const BACKLOG_STATES = ['waiting', 'delayed', 'prioritized', 'paused'] as const satisfies JobType[];
/** The backlog plus the jobs running now: `attestor_rekor_queue_depth`. */
export const DEPTH_STATES = [...BACKLOG_STATES, 'active'] as const satisfies JobType[];

export interface TierQueuesOptions {
  /** The connection every queue uses; the caller owns (and closes) it. */
  redis: Redis | Cluster;
  /** Key names, from `createRedisKeys(prefix)`. */
  keys: RedisKeys;
  /** Where queue connection errors are reported. @defaultValue silentLogger */
  logger?: Logger;
}

/** The two tier queues (BullMQ), named and prefixed by the key helper. */
export interface TierQueues {
  /** The queue of a tier, made on first use. */
  get(tier: Tier): Queue<SubmissionJobData>;
  /** Jobs of the tier waiting to run (`BACKLOG_STATES`). */
  backlog(tier: Tier): Promise<number>;
  /** Jobs waiting or running, per tier (`DEPTH_STATES`). */
  depth(): Promise<Record<Tier, number>>;
  /** Closes the queues made so far (not the connection). */
  close(): Promise<void>;
}

/**
 * The tier queues on one connection. Queues are made on first use: a BullMQ
 * queue built on a connection that never comes up leaves rejected promises
 * behind, so a producer that starts while Redis is away makes none.
 */
export function createTierQueues(options: TierQueuesOptions): TierQueues {
  const { redis, keys } = options;
  const logger = options.logger ?? silentLogger;
  const queues = new Map<Tier, Queue<SubmissionJobData>>();

  function get(tier: Tier): Queue<SubmissionJobData> {
    let q = queues.get(tier);
    if (!q) {
      q = new Queue<SubmissionJobData>(keys.queueName(tier), {
        connection: redis,
        prefix: keys.queuePrefix(tier),
      });
      q.on('error', (e) => logger.warn({ queue: keys.queueName(tier), ...errorFields(e) }, 'queue error'));
      queues.set(tier, q);
    }
    return q;
  }

  const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

  return {
    get,
    backlog: async (tier) => sum(await get(tier).getJobCounts(...BACKLOG_STATES)),
    async depth() {
      const out: Record<Tier, number> = { graph: 0, edge: 0 };
      for (const t of TIERS) out[t] = sum(await get(t).getJobCounts(...DEPTH_STATES));
      return out;
    },
    async close() {
      const open = [...queues.values()];
      queues.clear();
      const results = await Promise.allSettled(open.map((q) => q.close()));
      for (const r of results) {
        if (r.status === 'rejected') logger.warn(errorFields(r.reason), 'a tier queue did not close cleanly');
      }
    },
  };
}

import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { createRedisKeys, TIERS, type RekorConfig, type Tier } from '@rekor-budget/core';
import type { Database, OfflineReason } from '@rekor-budget/db';
import { OfflineQueue, SUBMISSION_JOB, submissionJobOptions } from '@rekor-budget/producer';

export interface DrainOptions {
  config: RekorConfig;
  /** Connection for the tier queues (caller-owned). */
  redis: Redis;
  db: Kysely<Database>;
  /** Is Rekor answering? (GET /api/v1/log) */
  probe(): Promise<boolean>;
  /** Rows moved per transaction. @defaultValue 100 */
  batchSize?: number;
  /** Overflow rows move back while the backlog is below this fraction of maxQueueSize. @defaultValue 0.5 */
  lowWater?: number;
}

export interface DrainReport {
  rekorUp: boolean;
  moved: Record<Tier, number>;
}

/** Rows that wait only for Rekor (or Redis) to come back. */
const CONNECTIVITY: OfflineReason[] = ['rekor_unreachable', 'redis_unavailable'];

/**
 * The drain: probes Rekor, clears the shared "Rekor offline" mark when it
 * answers, and replays offline rows into the tier queues (priority desc,
 * then oldest), deleting each row only once its job is in Redis.
 */
export class Drainer {
  private readonly queues: Record<Tier, Queue>;
  private readonly offline: OfflineQueue;
  private readonly keys;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: DrainOptions) {
    this.keys = createRedisKeys(options.config.redis.keyPrefix);
    const { redis } = options;
    this.queues = {
      graph: new Queue(this.keys.queueName('graph'), { connection: redis, prefix: this.keys.queuePrefix }),
      edge: new Queue(this.keys.queueName('edge'), { connection: redis, prefix: this.keys.queuePrefix }),
    };
    this.offline = new OfflineQueue(options.db);
  }

  /** Probes and drains every `offline.probeInterval` until `stop()`. */
  start(onReport?: (r: DrainReport) => void, onError?: (e: unknown) => void): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.drainOnce()
        .then(onReport, onError)
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.config.offline.probeIntervalMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running.catch(() => undefined);
    await Promise.all(Object.values(this.queues).map((q) => q.close().catch(() => undefined)));
  }

  /** One probe and, if Rekor answers, one full drain. */
  async drainOnce(): Promise<DrainReport> {
    const { config } = this.options;
    const moved: Record<Tier, number> = { graph: 0, edge: 0 };
    if (config.offline.airGapped) return { rekorUp: false, moved };
    const rekorUp = await this.options.probe().catch(() => false);
    if (!rekorUp) return { rekorUp, moved };
    await this.options.redis.del(this.keys.rekorState);
    if (!config.offline.drainOnConnect) return { rekorUp, moved };
    for (const tier of TIERS) moved[tier] += await this.drainRows(tier, CONNECTIVITY);
    for (const tier of TIERS) {
      const room = await this.roomBelowLowWater(tier);
      if (room > 0) moved[tier] += await this.drainRows(tier, ['overflow'], room);
    }
    return { rekorUp, moved };
  }

  private async roomBelowLowWater(tier: Tier): Promise<number> {
    const { maxQueueSize } = this.options.config.offline;
    const counts = await this.queues[tier].getJobCounts('waiting', 'delayed', 'prioritized', 'paused');
    const backlog = Object.values(counts).reduce((a, b) => a + b, 0);
    return Math.max(0, Math.floor(maxQueueSize * (this.options.lowWater ?? 0.5)) - backlog);
  }

  /** Moves rows of `tier` with one of `reasons` into the queue; returns how many. */
  private async drainRows(tier: Tier, reasons: OfflineReason[], max = Infinity): Promise<number> {
    const batch = this.options.batchSize ?? 100;
    let moved = 0;
    while (moved < max && !this.stopped) {
      const n = await this.options.db.transaction().execute(async (trx) => {
        const rows = await this.offline.claim(trx, Math.min(batch, max - moved), {
          reasons,
          exported: false,
          tier,
        });
        if (rows.length === 0) return 0;
        // The row id is the job id: unique per stay in the offline queue, so a
        // finished job of the same content (kept by BullMQ) cannot swallow it.
        const jobs = rows.map((row) => ({
          name: SUBMISSION_JOB,
          data: OfflineQueue.decode(row),
          opts: submissionJobOptions(this.options.config, row.id),
        }));
        await this.queues[tier].addBulk(jobs);
        await this.offline.delete(
          trx,
          rows.map((r) => r.id),
        );
        return rows.length;
      });
      if (n === 0) break;
      moved += n;
    }
    return moved;
  }
}

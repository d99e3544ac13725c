import { awaitReplicas, errorFields, redactUrl, TIERS, within, type Tier } from '@rekor-budget/core';
import type { OfflineReason } from '@rekor-budget/db';
import { OfflineQueue, SUBMISSION_JOB, submissionJobOptions } from '@rekor-budget/queue';
import type { Runtime } from '@rekor-budget/runtime';
import { RunError } from './error';

export interface DrainOptions {
  runtime: Pick<
    Runtime,
    | 'config'
    | 'logger'
    | 'redis'
    | 'keys'
    | 'db'
    | 'queues'
    | 'offline'
    | 'probeRekor'
    | 'probeTimestampAuthority'
    | 'metrics'
  >;
  /** Drain on a reachable Rekor even when `offline.drainOnConnect` is false (`rekor-budget drain`). */
  force?: boolean;
  /** Rows moved per transaction (one claim, one addBulk, one delete). @defaultValue 1000 */
  batchSize?: number;
  /** Transactions moving batches at once. @defaultValue 2 */
  parallel?: number;
  /** Overflow rows move back while the backlog is below this fraction of maxQueueSize. @defaultValue 0.5 */
  lowWater?: number;
  /**
   * How long a batch's add may take before the batch is given up (ms): its
   * transaction rolls back, so its rows, and their locks, do not wait on a
   * Redis that is away (a worker sending the same content offline would wait
   * on them). An add that lands after all is harmless: the row id is the job
   * id, and the next pass deletes the rows it finds queued. @defaultValue 30 000
   */
  addTimeoutMs?: number;
}

const DRAIN_ADD_TIMEOUT_MS = 30_000;

export interface DrainReport {
  rekorUp: boolean;
  moved: Record<Tier, number>;
  /**
   * Overflow rows left offline because the tier queue holds half of
   * `offline.maxQueueSize` or more (its low-water mark): they move as it empties.
   */
  heldBack: Record<Tier, number>;
  /**
   * Set when rows wait for the timestamp authority (`timestamp_unavailable`)
   * and it was asked: they move only once it grants a timestamp.
   */
  timestampAuthority?: { reachable: boolean; url: string; detail: string };
}

/** Rows that wait only for Rekor (or Redis) to answer again. */
const CONNECTIVITY: OfflineReason[] = [
  'rekor_unreachable',
  'redis_unavailable',
  'rekor_error',
  'rekor_timeout',
];

/**
 * The drain: probes Rekor, clears the shared "Rekor offline" mark when it
 * answers, and replays offline rows into the tier queues (priority desc,
 * then oldest), deleting each row only once its job is in Redis.
 */
export class Drainer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: DrainOptions) {}

  /** Probes and drains every `offline.probeInterval` until `stop()`; reports each pass. */
  start(onReport?: (r: DrainReport) => void): void {
    const { config, logger } = this.options.runtime;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.drainOnce()
        .then(onReport, (e: unknown) =>
          logger.warn({ component: 'drain', ...errorFields(e) }, 'drain pass failed; trying again'),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, config.offline.probeIntervalMs);
        });
    };
    tick();
  }

  /** Stops probing and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One probe and, if Rekor answers, one full drain. */
  async drainOnce(): Promise<DrainReport> {
    const { config, redis, keys, probeRekor } = this.options.runtime;
    const moved: Record<Tier, number> = { graph: 0, edge: 0 };
    const heldBack: Record<Tier, number> = { graph: 0, edge: 0 };
    if (config.offline.airGapped) return { rekorUp: false, moved, heldBack };
    const probe = await probeRekor();
    const rekorUp = probe.state === 'reachable';
    this.options.runtime.metrics.rekorProbe(rekorUp, redactUrl(probe.serverUrl));
    if (!rekorUp) return { rekorUp, moved, heldBack };
    await redis.del(keys.rekorState);
    if (!config.offline.drainOnConnect && !this.options.force) return { rekorUp, moved, heldBack };
    for (const tier of TIERS) moved[tier] += await this.drainRows(tier, CONNECTIVITY);
    const timestampAuthority = await this.timestampsGranted();
    if (timestampAuthority?.reachable !== false) {
      for (const tier of TIERS) moved[tier] += await this.drainRows(tier, ['timestamp_unavailable']);
    }
    for (const tier of TIERS) {
      const room = await this.roomBelowLowWater(tier);
      const n = room > 0 ? await this.drainRows(tier, ['overflow'], room) : 0;
      moved[tier] += n;
      // the room ran out before the rows did: say how many wait for it
      if (n === room) heldBack[tier] = await this.overflowRows(tier);
    }
    return { rekorUp, moved, heldBack, ...(timestampAuthority ? { timestampAuthority } : {}) };
  }

  /**
   * With rows that wait for the timestamp authority, whether it grants a
   * timestamp now (one request): replayed while it does not, each row would
   * spend its attempts and come back. `undefined` without such rows, or
   * without a timestamp authority configured (the rows then simply move).
   */
  private async timestampsGranted(): Promise<DrainReport['timestampAuthority']> {
    const { offline, probeTimestampAuthority } = this.options.runtime;
    if (!(await offline.waitsFor('timestamp_unavailable'))) return undefined;
    const probe = await probeTimestampAuthority();
    return probe && { reachable: probe.reachable, url: probe.url, detail: probe.detail };
  }

  /** Overflow rows of the tier in the offline queue. */
  private async overflowRows(tier: Tier): Promise<number> {
    const counts = await this.options.runtime.offline.counts();
    return counts.find((c) => c.tier === tier && c.reason === 'overflow')?.rows ?? 0;
  }

  private async roomBelowLowWater(tier: Tier): Promise<number> {
    const { config, queues } = this.options.runtime;
    const lowWater = Math.floor(config.offline.maxQueueSize * (this.options.lowWater ?? 0.5));
    return Math.max(0, lowWater - (await queues.backlog(tier)));
  }

  /**
   * Moves rows of `tier` with one of `reasons` into the queue; returns how
   * many. `parallel` transactions claim disjoint batches (SKIP LOCKED), so
   * one batch's addBulk overlaps the next one's claim; each batch is in
   * drain order, batches in flight at once may interleave.
   */
  private async drainRows(tier: Tier, reasons: OfflineReason[], max = Infinity): Promise<number> {
    const { config, db, queues, offline, redis, logger } = this.options.runtime;
    const batch = this.options.batchSize ?? 1000;
    const parallel = this.options.parallel ?? 2;
    const addTimeoutMs = this.options.addTimeoutMs ?? DRAIN_ADD_TIMEOUT_MS;
    let reserved = 0;
    let moved = 0;
    let empty = false;
    const loop = async () => {
      while (!empty && reserved < max && !this.stopped) {
        const take = Math.min(batch, max - reserved);
        reserved += take;
        const n = await db.transaction().execute(async (trx) => {
          const rows = await offline.claim(trx, take, { reasons, exported: false, tier });
          if (rows.length === 0) return 0;
          // The row id is the job id: unique per stay in the offline queue, so a
          // finished job of the same content (kept by BullMQ) cannot swallow it.
          const jobs = rows.map((row) => ({
            name: SUBMISSION_JOB,
            data: OfflineQueue.decode(row),
            opts: submissionJobOptions(config, row.id),
          }));
          await within(
            queues.get(tier).addBulk(jobs),
            addTimeoutMs,
            () =>
              new RunError(
                'REDIS_TIMEOUT',
                `Redis did not take a batch of ${jobs.length} drained jobs within ${addTimeoutMs} ms; the rows stay offline for the next pass`,
              ),
          );
          // with Sentinel, a replica holds the jobs before their only other copy goes
          if (!(await awaitReplicas(redis, config.redis.topology)))
            logger.warn(
              { component: 'drain', tier, jobs: jobs.length },
              'no replica acknowledged the moved jobs in time; a failover now could lose them',
            );
          await offline.delete(
            trx,
            rows.map((r) => r.id),
          );
          return rows.length;
        });
        reserved -= take - n;
        moved += n;
        if (n < take) empty = true;
      }
    };
    await Promise.all(Array.from({ length: parallel }, loop));
    return moved;
  }
}

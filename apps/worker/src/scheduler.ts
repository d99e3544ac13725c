import type { Queue } from 'bullmq';
import { awaitReplicas, errorFields, type Tier } from '@rekor-budget/core';
import {
  createLease,
  releasedJobId,
  SUBMISSION_JOB,
  submissionJobOptions,
  type Lease,
} from '@rekor-budget/queue';
import type { Runtime } from '@rekor-budget/runtime';
import { RunError } from './error';

/** What the scheduler takes from its process's runtime. */
export type SchedulerRuntime = Pick<
  Runtime,
  'config' | 'logger' | 'keys' | 'redis' | 'budget' | 'queues' | 'parking' | 'lanes'
>;

export interface SchedulerOptions {
  runtime: SchedulerRuntime;
  tier: Tier;
  /** Jobs released from one lane in one round at most (the per-tenant quantum). @defaultValue 64 */
  quantum?: number;
  /** Lanes served in one round at most, the longest due first. @defaultValue 2000 */
  lanesPerRound?: number;
  /** Lanes served at once. @defaultValue 16 */
  parallel?: number;
  /**
   * Longest pause between rounds while leading and nothing is due (ms). The
   * idle leader blocks on the tier's signal, which a new lane or a unit given
   * back pushes, so new work is seen at once; this bounds how late a lost
   * signal is noticed. Below half the lease. @defaultValue 2 000
   */
  pollMs?: number;
  /** Pause between tries for the lease while another process leads, and after a failed round (ms). @defaultValue 1 000 (at most 10 x pollMs) */
  retryMs?: number;
  /** Lifetime of the leader lease (ms); renewed every round. @defaultValue 10 000 */
  leaseMs?: number;
  /** How often the leader rebuilds the lanes from Postgres (after a Redis loss) (ms). @defaultValue 60 000 */
  rebuildMs?: number;
  /** Called after each round this process ran as the leader. */
  onRound?: (report: RoundReport) => void;
}

/** What one scheduling round did. */
export interface RoundReport {
  /** The budget clock at the start of the round (ms). */
  atMs: number;
  /** Lanes looked at. */
  lanes: number;
  /** Jobs released into the tier queue, per tenant. */
  released: Map<string, number>;
  /** Lanes found empty and dropped. */
  dropped: number;
}

/**
 * The release loop of one tier (DESIGN.md section 2; packages/budget/README.md).
 * One process per tier leads (a Redis lease); each round it takes the lanes
 * that are due (tenants with parked jobs whose budget may have freed), asks
 * the budget how many units each has free now, holds that many units for the
 * lane's head (at most `quantum`) and moves exactly those jobs into the tier
 * queue, then deletes their parked rows. A lane whose budget is full sleeps
 * until its next unit frees: a deep backlog costs nothing while it waits.
 *
 * Crash safety: a parked row is deleted only after its job is in the queue,
 * under a job id derived from the row's id (unique per stay in the lane), so
 * a replayed release finds its job there and only deletes the row, and a
 * later release of the same content never meets an earlier, finished job.
 */
export class Scheduler {
  private readonly rt: SchedulerRuntime;
  private readonly log: SchedulerRuntime['logger'];
  private readonly tier: Tier;
  private readonly quantum: number;
  private readonly lanesPerRound: number;
  private readonly parallel: number;
  private readonly pollMs: number;
  private readonly retryMs: number;
  private readonly rebuildMs: number;
  private readonly lease: Lease;
  private readonly onRound?: (report: RoundReport) => void;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The idle leader's connection for blocking on the signal (made when first needed). */
  private blocking: SchedulerRuntime['redis'] | undefined;
  private leading = false;
  private lastRebuild = 0;

  constructor(options: SchedulerOptions) {
    this.rt = options.runtime;
    this.tier = options.tier;
    this.log = this.rt.logger.child({ component: 'scheduler', tier: this.tier });
    this.quantum = positive('quantum', options.quantum ?? 64);
    this.lanesPerRound = positive('lanesPerRound', options.lanesPerRound ?? 2000);
    this.parallel = positive('parallel', options.parallel ?? 16);
    this.pollMs = positive('pollMs', options.pollMs ?? 2_000);
    this.retryMs = positive('retryMs', options.retryMs ?? Math.min(1_000, this.pollMs * 10));
    this.rebuildMs = positive('rebuildMs', options.rebuildMs ?? 60_000);
    const leaseMs = positive('leaseMs', options.leaseMs ?? 10_000);
    if (this.pollMs + BLOCK_GRACE_MS >= leaseMs / 2) {
      throw new RunError(
        'INVALID_OPTION',
        `scheduler option pollMs (${this.pollMs}) must stay below half the lease (leaseMs ${leaseMs}) less ${BLOCK_GRACE_MS} ms, so the idle leader renews its lease in time; lower pollMs or raise leaseMs`,
      );
    }
    this.lease = createLease(this.rt.redis, this.rt.keys.schedulerLeader(this.tier), leaseMs);
    if (options.onRound) this.onRound = options.onRound;
  }

  /** Whether this process leads the tier's releases now. */
  get leader(): boolean {
    return this.leading;
  }

  /** Starts the loop: rounds while leading, otherwise tries for the lease now and then. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops the loop after the current round and gives the lease up. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    this.wake?.();
    // a wait on the signal ends with its connection
    this.blocking?.disconnect();
    await this.loop;
    this.blocking = undefined;
    if (this.leading) {
      this.leading = false;
      try {
        await this.lease.release();
      } catch (e) {
        this.rt.logger.warn(errorFields(e), 'scheduler: the leader lease was not released; it expires');
      }
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      let pause = this.retryMs;
      let idle = false;
      try {
        const was = this.leading;
        this.leading = await this.lease.acquire();
        if (this.leading && !was) this.log.info('scheduler: leading the releases of parked jobs');
        if (this.leading) {
          const report = await this.round();
          this.onRound?.(report);
          const next = await this.rt.lanes.nextDue(this.tier);
          idle = true;
          pause = this.pollMs;
          if (report.lanes >= this.lanesPerRound) pause = 0;
          else if (next !== undefined) pause = Math.min(this.pollMs, Math.max(0, next - report.atMs));
        }
      } catch (e) {
        this.log.warn(errorFields(e), 'scheduler: a round failed; trying again');
        pause = this.retryMs;
      }
      if (pause > 0 && this.running) await (idle ? this.idle(pause) : this.sleep(pause));
    }
  }

  /**
   * A connection of the leader's own for the blocking wait. Its errors (Redis
   * away) are those the process's own connection reports already: kept at
   * debug level here, so ioredis does not print them as unhandled.
   */
  private blockingConnection(): SchedulerRuntime['redis'] {
    const connection = this.rt.redis.duplicate();
    connection.on('error', (e: unknown) =>
      this.log.debug(errorFields(e), 'scheduler: the signal connection failed; it reconnects'),
    );
    return connection;
  }

  /** Sleeps `ms`, or until `stop()`. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  /**
   * The leader's wait between rounds: until the tier is signalled (a new lane,
   * a lane brought forward), `ms` pass, or `stop()`. An idle leader so costs
   * one blocking command per `pollMs` rather than a round per poll. Short
   * waits, and a signal that cannot be waited on, sleep instead.
   */
  private async idle(ms: number): Promise<void> {
    if (ms < MIN_BLOCK_MS) return this.sleep(ms);
    const blocking = (this.blocking ??= this.blockingConnection());
    let failed = false;
    const signal = this.rt.lanes.awaitSignal(blocking, this.tier, ms).then(
      () => undefined,
      (e: unknown) => {
        failed = true;
        if (this.running)
          this.log.debug(errorFields(e), 'scheduler: no wait on the signal; sleeping instead');
      },
    );
    // the timer bounds a wait Redis does not answer (a reconnecting connection holds it)
    await Promise.race([signal, this.sleep(ms + BLOCK_GRACE_MS)]);
    clearTimeout(this.timer);
    if (failed && this.running) await this.sleep(ms);
  }

  /** One round over the lanes due now (public for tests and tools; the loop calls it while leading). */
  async round(): Promise<RoundReport> {
    const { budget, lanes, parking } = this.rt;
    const now = await budget.now();
    if (now - this.lastRebuild >= this.rebuildMs || now < this.lastRebuild) {
      for (const t of await parking.tenants(this.tier)) await lanes.mark(this.tier, t, now, 0);
      // only a finished rebuild counts: one that Postgres or Redis cut short runs again next round
      this.lastRebuild = now;
    }
    const due = await lanes.due(this.tier, now, this.lanesPerRound);
    const report: RoundReport = { atMs: now, lanes: due.length, released: new Map(), dropped: 0 };
    let next = 0;
    const serve = async () => {
      while (next < due.length) {
        const tenantId = due[next++]!;
        const r = await this.serveLane(tenantId, now);
        if (r === 'dropped') report.dropped++;
        else if (r > 0) report.released.set(tenantId, r);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.parallel, due.length) }, serve));
    return report;
  }

  /** Releases what the tenant's budget admits now from the head of its lane. */
  private async serveLane(tenantId: string, now: number): Promise<number | 'dropped'> {
    const { budget, lanes, parking, queues, config } = this.rt;
    const tier = this.tier;
    const st = await budget.peek(tenantId, tier);
    if (st.free <= 0) {
      // full: look again when the next unit frees (holds settle as their jobs run)
      await lanes.reschedule(tier, tenantId, st.retryAtMs ?? now + 1000);
      return 0;
    }
    const want = Math.min(st.free, this.quantum);
    const version = await lanes.version(tier, tenantId);
    const head = await parking.head(tier, tenantId, want);
    if (head.length === 0) {
      if (await lanes.drop(tier, tenantId, version)) return 'dropped';
      await lanes.reschedule(tier, tenantId, now);
      return 0;
    }
    const queue = queues.get(tier);
    const ids = head.map((p) => releasedJobId(tier, p.data.contentDigest, p.id));
    // A row whose job is in the queue already was released before and its delete
    // never ran (a crash, Postgres away): only the row goes, no unit is held again.
    const known = await existingJobs(this.rt.redis, queue, ids);
    const replayed = head.filter((_, i) => known.has(ids[i]!));
    if (replayed.length > 0) {
      await parking.delete(replayed.map((p) => p.id));
      await lanes.count(tier, 'p', new Map([[tenantId, -replayed.length]]));
    }
    const fresh = head.filter((_, i) => !known.has(ids[i]!));
    const freshIds = fresh.map((p) => releasedJobId(tier, p.data.contentDigest, p.id));
    const { held } = await budget.hold(tenantId, tier, freshIds);
    const take = fresh.slice(0, held);
    if (take.length > 0) {
      try {
        await queue.addBulk(
          take.map((p, i) => ({
            name: SUBMISSION_JOB,
            data: { ...p.data, wakes: p.wakes + 1 },
            opts: submissionJobOptions(config, freshIds[i]!),
          })),
        );
      } catch (e) {
        // the rows stay parked for the next round: their units go back now rather
        // than when the holds expire (a job that did land runs without one and is
        // admitted or parked again when it runs)
        await Promise.all(
          freshIds
            .slice(0, take.length)
            .map((id) =>
              budget
                .release(tenantId, tier, id)
                .catch((err: unknown) =>
                  this.rt.logger.warn(
                    { component: 'scheduler', tier, tenantId, jobId: id, ...errorFields(err) },
                    'a unit held for a release that failed was not let go; it frees when the hold expires',
                  ),
                ),
            ),
        );
        throw e;
      }
      const n = new Map([[tenantId, take.length]]);
      await lanes.count(tier, 'q', n);
      await lanes.count(tier, 'p', new Map([[tenantId, -take.length]]));
      // with Sentinel, a replica holds the jobs before their parked rows go
      if (!(await awaitReplicas(this.rt.redis, config.redis.topology)))
        this.rt.logger.warn(
          { component: 'scheduler', tier, jobs: take.length },
          'no replica acknowledged the released jobs in time; a failover now could lose them',
        );
      // a job refused again before this delete took its row over under a new id: kept
      await parking.delete(take.map((p) => p.id));
    }
    // more may fit now (the quantum cut it): due again, behind the lanes due earlier
    await lanes.reschedule(tier, tenantId, now);
    return take.length;
  }
}

/** The ids among `ids` of jobs the queue holds, in any state (one pipelined EXISTS each). */
async function existingJobs(
  redis: SchedulerRuntime['redis'],
  queue: Queue,
  ids: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  if (ids.length === 0) return found;
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.exists(queue.toKey(id));
  const replies = (await pipeline.exec()) ?? [];
  replies.forEach(([err, n], i) => {
    if (err) throw err;
    if (Number(n) > 0) found.add(ids[i]!);
  });
  return found;
}

/** Waits shorter than this sleep rather than block on the signal (ms). */
const MIN_BLOCK_MS = 50;
/** How much longer than its own timeout a blocking wait may take before the loop goes on (ms). */
const BLOCK_GRACE_MS = 1_000;

function positive(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new RunError(
      'INVALID_OPTION',
      `scheduler option ${name} is ${String(v)}; it must be a positive whole number`,
    );
  }
  return v;
}

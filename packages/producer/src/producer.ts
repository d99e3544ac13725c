import type { Kysely } from 'kysely';
import {
  awaitReplicas,
  REPLICA_WAIT_MS,
  checkPayloadSize,
  contentIdentity,
  createRedisConnection,
  createRedisKeys,
  errorFields,
  firedTriggers,
  InputError,
  silentLogger,
  validateEdgeInput,
  validateGraphInput,
  within,
  type EdgeTrigger,
  type Logger,
  type RedisConnection,
  type RekorConfig,
  type Sha256Digest,
  type Submission,
  type Tier,
} from '@rekor-budget/core';
import type { Database, OfflineReason } from '@rekor-budget/db';
import {
  createLanes,
  contentPlaces,
  createTierQueues,
  jobIdFor,
  OfflineQueue,
  ParkingLot,
  SUBMISSION_JOB,
  submissionJobOptions,
  type ContentPlace,
  type SubmissionJobData,
  type TenantTally,
} from '@rekor-budget/queue';
import { ProducerError, submitFailure } from './error';

/** Content look-ups per Postgres query. */
const LOOKUP_BATCH = 1_000;
/** Jobs of one tenant's batch offered to the budget for a unit; the others park behind them. */
const HOLD_CANDIDATES = 500;
/** How long the producer trusts a count of the queue backlog (`offline.maxQueueSize`). */
const BACKLOG_CACHE_MS = 1_000;
/** A batch larger than this gets an estimate on its first queued result only. */
const ESTIMATES_MAX = 1_000;
/** Single submissions in one coalesced batch, at most. */
const COALESCED_MAX = 500;
/**
 * A batch's jobs go to the tier queue in up to this many `addBulk` chunks sent
 * side by side (Redis runs one while the next is encoded), of `ADD_CHUNK_MIN`
 * jobs at least.
 */
const ADD_CHUNKS = 4;
const ADD_CHUNK_MIN = 16;
/**
 * A batch of at most this many jobs (coalesced single submissions, mostly)
 * goes as one `Queue.add` per job instead: Redis starts on the first while
 * the rest are encoded, and no pipeline object is built (ioredis copies every
 * defined script onto each). Measured with 64 single submissions in flight:
 * ~12 % more submissions/s and ~12 % less CPU each; a batch of 500 is
 * cheaper through `addBulk`.
 */
const ADD_ONE_BY_ONE_MAX = 100;
/** Tenants of one batch whose groups are submitted side by side. */
const GROUPS_SIDE_BY_SIDE = 8;

/** One submission of a batch: its place in the batch, its job data and job id. */
interface Item {
  i: number;
  data: SubmissionJobData;
  jobId: string;
}

/** A tenant's submissions of one tier in a batch, in the tenant's order. */
interface Group {
  tier: Tier;
  tenantId: string;
  items: Item[];
}

/** The first Redis read of a tier's batch (`readTier`). */
interface TierReads {
  tallies: Map<string, TenantTally>;
  states: Map<string, 'live' | 'finished'>;
}

/** What a tier's Redis stage did before it answered or gave up (`queueTier`). */
interface TierProgress {
  /** Job ids the budget holds a unit for, per tenant. */
  held: Map<string, string[]>;
  /** Job ids whose add was sent to Redis: after a time-out, they may still land. */
  sent: Set<string>;
  /** The caller stopped waiting (time-out): holds answered from now on are let go at once. */
  gaveUp: boolean;
}

/** What becomes of a group's submissions, decided in the Redis stage. */
interface GroupPlan {
  group: Group;
  /** The tenant's tallies when the batch came. */
  tally: TenantTally;
  /** Their content waits in the tier queue already. */
  duplicates: Item[];
  /** Added to the tier queue. */
  queue: Item[];
  /**
   * To the offline queue, each for its reason. `maybeQueued`: an add was sent
   * to Redis before it stopped answering, so the job may be queued all the
   * same (if Postgres does not take it either, the caller is told so).
   */
  overflow: { item: Item; reason: OfflineReason; cause?: unknown; maybeQueued?: boolean }[];
  /** To the tenant's parking lane. */
  toPark: Item[];
}

export interface RekorProducerOptions {
  /** Validated configuration (`attestor.rekor`). */
  config: RekorConfig;
  /**
   * A Redis connection owned by the caller (not closed by `close()`): a
   * `Redis`, or a `Cluster` for Redis Cluster. Without it the producer opens
   * its own to the configured Redis (`redis.url`, `redis.cluster` or `redis.sentinel`).
   */
  redis?: RedisConnection;
  /** Postgres, for the offline queue and receipt look-ups. Without it, overflow is an error. */
  db?: Kysely<Database>;
  /** How long one Redis round trip may take before Redis counts as away. @defaultValue 2000 */
  redisTimeoutMs?: number;
  /** Epoch ms. @defaultValue Date.now */
  clock?: () => number;
  /** Counts refusals and fired Tier 2 triggers. */
  metrics?: ProducerMetrics;
  /**
   * The budget (from @rekor-budget/budget), to estimate when a queued
   * submission may go to Rekor. Without it, results carry no estimate.
   */
  budget?: BudgetPeek;
  /** Where skipped work is reported (a receipt look-up that failed, Redis errors). @defaultValue silentLogger */
  logger?: Logger;
}

/** What the producer asks of the budget (`Budget` of @rekor-budget/budget fits). */
export interface BudgetPeek {
  /** Holds a unit for each job id in order, as many as fit; `held` is how many. */
  hold(tenantId: string, tier: Tier, jobIds: readonly string[]): Promise<{ held: number }>;
  /** Lets go of the unit held for a job that will not go to the queue. */
  release(tenantId: string, tier: Tier, jobId: string): Promise<boolean>;
  /** When the job with `ahead` jobs of the tenant before it may get a unit (ms). */
  estimate(tenantId: string, tier: Tier, ahead: number): Promise<number>;
}

/** One submission of a batch (`submitMany`). */
export type SubmitRequest = { tier: 'graph'; input: unknown } | { tier: 'edge'; input: unknown };

/** The metrics the producer records (`RekorMetrics` of @rekor-budget/metrics fits). */
export interface ProducerMetrics {
  rejected(tier: Tier, reason: string): void;
  edgeBundleTriggered(...triggers: EdgeTrigger[]): void;
}

/**
 * - `queued`: in the tier queue; a worker will log it.
 * - `duplicate`: the content is already queued, waiting in the offline queue, or logged.
 * - `overflowed`: kept in the offline queue (`offlineReason`); the drain moves it back.
 * - `rejected`: Rekor refused this content for good earlier; it waits in the rejected
 *   table for an operator (`rekor-budget rejected list|retry|discard`).
 */
export type SubmitStatus = 'queued' | 'duplicate' | 'overflowed' | 'rejected';

export interface SubmitResult {
  jobId: string;
  status: SubmitStatus;
  contentDigest: Sha256Digest;
  tier: Tier;
  /** Tier 2: the triggers that escalated the bundle. */
  triggers?: EdgeTrigger[];
  /** For `overflowed`: why it went to Postgres. */
  offlineReason?: OfflineReason;
  /**
   * For `queued`: `true` when the tenant's budget has no unit for it now (or
   * its earlier jobs wait): it waits in the tenant's parking lane in Postgres
   * and the scheduler releases it, in the tenant's order, once a unit is free.
   */
  parked?: boolean;
  /**
   * For `queued`, with a budget: when the tenant's budget may admit it,
   * counting the tenant's jobs already queued or parked ahead of it (if
   * nothing else of the tenant is spent meanwhile).
   */
  estimatedSubmitAt?: Date;
}

export interface RekorProducer {
  submitGraphAttestation(input: unknown): Promise<SubmitResult>;
  submitEdgeBundle(input: unknown): Promise<SubmitResult>;
  /**
   * Submits many at once (BullMQ `addBulk`, multi-row inserts): results in
   * request order. Every request is validated first; one bad request refuses
   * the batch with `INVALID_BATCH` (its `index` and `cause`) and stores nothing.
   */
  submitMany(requests: readonly SubmitRequest[]): Promise<SubmitResult[]>;
  close(): Promise<void>;
}

/** Creates the producer scanners use to submit attestations. */
export function createRekorProducer(options: RekorProducerOptions): RekorProducer {
  const { config, db } = options;
  const clock = options.clock ?? Date.now;
  const timeoutMs = options.redisTimeoutMs ?? 2000;
  const logger = options.logger ?? silentLogger;
  const keys = createRedisKeys(config.redis.keyPrefix, { topology: config.redis.topology });
  const ownsRedis = options.redis === undefined;
  const redis =
    options.redis ??
    createRedisConnection(config.redis, {
      // fail fast while Redis is away, so the submission can go to Postgres
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: timeoutMs,
    });
  if (ownsRedis) {
    redis.on('error', (e) => logger.debug({ component: 'producer', ...errorFields(e) }, 'Redis error'));
  }
  // Queues are made on first use, once Redis answered (see createTierQueues).
  const queues = createTierQueues({ redis, keys, logger });
  const offline = db ? new OfflineQueue(db) : undefined;
  const parking = db ? new ParkingLot(db) : undefined;
  const lanes = createLanes(redis, keys);
  let closed = false;
  let closing: Promise<void> | undefined;

  function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
    return within(
      work,
      ms,
      () => new ProducerError('REDIS_TIMEOUT', `Redis did not answer within ${timeoutMs} ms`),
    );
  }

  async function overflow(data: SubmissionJobData, jobId: string, reason: OfflineReason, cause?: unknown) {
    const base = { jobId, contentDigest: data.contentDigest, tier: data.tier } as const;
    if (!config.offline.queueEnabled || !offline) {
      const why = !config.offline.queueEnabled
        ? 'offline.queueEnabled is false'
        : 'the producer has no database';
      throw reason === 'overflow'
        ? new ProducerError(
            'QUEUE_FULL',
            `the ${data.tier} backlog reached offline.maxQueueSize (${config.offline.maxQueueSize}) and ${why}; retry later or enable the offline queue`,
          )
        : new ProducerError('REDIS_UNAVAILABLE', `Redis is unavailable and ${why}; nothing was stored`, {
            cause,
          });
    }
    try {
      const r = await offline.add(data, reason);
      return {
        ...base,
        status: r.inserted ? 'overflowed' : 'duplicate',
        ...(r.inserted ? { offlineReason: reason } : {}),
      } satisfies Partial<SubmitResult>;
    } catch (e) {
      throw new ProducerError(
        'OFFLINE_QUEUE_UNAVAILABLE',
        `the submission could not be queued in Redis (${reason}) nor stored in Postgres (${(e as Error).message}); nothing was stored, submit it again`,
        { cause: e },
      );
    }
  }

  /** Resolves once the connection is ready, or rejects after `ms`. */
  function ready(ms: number): Promise<void> {
    if (redis.status === 'ready') return Promise.resolve();
    if (redis.status === 'reconnecting') {
      // the last connection attempt failed: Redis is away now, so the submission goes to Postgres at once
      return Promise.reject(
        new ProducerError('REDIS_TIMEOUT', 'Redis is not connected (its last connection attempt failed)'),
      );
    }
    if (redis.status === 'wait') {
      // a failed connect is reported through the 'error' event and the timeout below
      redis.connect().catch((e: unknown) => logger.debug(errorFields(e), 'Redis connect failed'));
    }
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: ProducerError) => {
        clearTimeout(timer);
        redis.off('ready', onReady);
        redis.off('reconnecting', onDown);
        redis.off('end', onDown);
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => settle();
      // a refused or dropped connection is an answer: no need to wait out the timeout
      const onDown = () =>
        settle(new ProducerError('REDIS_TIMEOUT', 'Redis is not connected (the connection attempt failed)'));
      const timer = setTimeout(
        () =>
          settle(
            new ProducerError(
              'REDIS_TIMEOUT',
              `Redis is not connected (${redis.status}) after ${timeoutMs} ms`,
            ),
          ),
        ms,
      );
      redis.once('ready', onReady);
      redis.once('reconnecting', onDown);
      redis.once('end', onDown);
    });
  }

  /**
   * Where Postgres already holds each content: logged (a receipt), waiting
   * offline or parked, or refused for good (one query). A failed look-up is no
   * answer: the content is submitted, and the worker checks again before it
   * sends anything.
   */
  async function knownInPostgres(digests: Sha256Digest[]): Promise<Map<string, ContentPlace>> {
    if (!db) return new Map();
    try {
      return await contentPlaces(db, digests);
    } catch (e) {
      logger.warn(
        { submissions: digests.length, ...errorFields(e) },
        'Postgres look-up failed; submitting anyway',
      );
      return new Map();
    }
  }

  /** The answer for a submission (built field by field: a batch makes one per submission). */
  function answer(
    submission: Submission,
    status: SubmitStatus,
    jobId: string = jobIdFor(submission.tier, submission.contentDigest),
  ): SubmitResult {
    const result: SubmitResult = {
      jobId,
      status,
      contentDigest: submission.contentDigest,
      tier: submission.tier,
    };
    if (submission.tier === 'edge') result.triggers = submission.triggers;
    return result;
  }

  /**
   * Single submissions made in the same turn of the event loop go as one
   * batch: a scanner fleet's concurrent calls share the batch's round trips
   * (one Postgres look-up, one add per tenant) instead of each paying them.
   * Nothing waits for an earlier batch, so the fail-fast bound holds.
   */
  const waiting: { submission: Submission; resolve(r: SubmitResult): void; reject(e: unknown): void }[] = [];
  /** Batches being submitted (coalesced or `submitMany`): `close()` answers them first. */
  const inFlight = new Set<Promise<void>>();
  let flushScheduled = false;

  function track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    inFlight.add(settled);
    void settled.finally(() => inFlight.delete(settled));
    return work;
  }

  function submit(submission: Submission): Promise<SubmitResult> {
    if (closed) return Promise.reject(new ProducerError('CLOSED', 'the producer is closed'));
    return new Promise((resolve, reject) => {
      waiting.push({ submission, resolve, reject });
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    });
  }

  function flush(): void {
    flushScheduled = false;
    while (waiting.length > 0) {
      const batch = waiting.splice(0, COALESCED_MAX);
      void track(
        (async () => {
          try {
            const { results, errors } = await submitSettled(batch.map((b) => b.submission));
            batch.forEach((b, i) => (errors[i] === undefined ? b.resolve(results[i]!) : b.reject(errors[i])));
          } catch (e) {
            for (const b of batch) b.reject(submitFailure(e));
          }
        })(),
      );
    }
  }

  async function submitBatch(submissions: Submission[]): Promise<SubmitResult[]> {
    if (closed) throw new ProducerError('CLOSED', 'the producer is closed');
    const { results, errors } = await track(submitSettled(submissions)).catch((e: unknown) => {
      throw submitFailure(e);
    });
    const failed = errors.flatMap((e, i) => (e === undefined ? [] : [i]));
    if (failed.length === 0) return results as SubmitResult[];
    const first = errors[failed[0]!];
    // nothing stored: the one error says it all
    if (failed.length === submissions.length) throw first;
    throw new ProducerError(
      'BATCH_INCOMPLETE',
      `${failed.length} of ${submissions.length} requests were not stored (request ${failed[0]}: ${(first as Error).message}); ` +
        'the others were; see results and errors by request position, or submit the batch again (stored ones are answered duplicate)',
      { cause: first, results, errors },
    );
  }

  /**
   * Submits validated submissions. Per tenant and tier, in the tenant's order
   * (priority, then arrival): while the tenant has parked work everything
   * parks behind it; otherwise as many go to the tier queue as the budget has
   * units free beyond the tenant's queued jobs, and the rest park. One
   * Postgres look-up for the batch; per tier, one Redis stage for all its
   * tenants (see `queueTier`).
   */
  async function submitSettled(
    submissions: Submission[],
  ): Promise<{ results: (SubmitResult | undefined)[]; errors: unknown[] }> {
    const results: SubmitResult[] = new Array(submissions.length);
    const errors: unknown[] = new Array(submissions.length);
    const now = clock();
    /** The first place of each content in the batch; a repeat takes its first copy's answer. */
    const firsts = new Map<string, number>();
    const repeats: { i: number; first: number }[] = [];
    const tiers = new Map<Tier, Map<string, Group>>();
    submissions.forEach((submission, i) => {
      const jobId = jobIdFor(submission.tier, submission.contentDigest);
      const first = firsts.get(jobId);
      if (first !== undefined) {
        repeats.push({ i, first });
        return;
      }
      firsts.set(jobId, i);
      const tier = submission.tier;
      const tenantId = submission.input.tenantId.toLowerCase();
      let groups = tiers.get(tier);
      if (!groups) tiers.set(tier, (groups = new Map()));
      let group = groups.get(tenantId);
      if (!group) groups.set(tenantId, (group = { tier, tenantId, items: [] }));
      group.items.push({ i, jobId, data: { ...submission, enqueuedAt: now } });
    });
    // Postgres and Redis are asked side by side: where Postgres holds the contents,
    // and per tier the tenants' tallies and the queue's jobs of these contents
    const reads = new Map([...tiers].map(([tier, groups]) => [tier, readTier(tier, [...groups.values()])]));
    // a failed read is met in submitTier; a tier with nothing left to submit never asks
    for (const read of reads.values()) read.catch(() => undefined);
    const known = await knownInPostgres(
      [...tiers.values()].flatMap((groups) =>
        [...groups.values()].flatMap((g) => g.items.map((x) => x.data.contentDigest)),
      ),
    );
    for (const groups of tiers.values()) {
      for (const [tenantId, group] of groups) {
        group.items = group.items.filter(({ i, data, jobId }) => {
          const place = known.get(data.contentDigest);
          if (place === undefined) return true;
          results[i] = answer(data, place === 'rejected' ? 'rejected' : 'duplicate', jobId);
          return false;
        });
        if (group.items.length === 0) groups.delete(tenantId);
      }
    }
    await Promise.all(
      [...tiers]
        .filter(([, groups]) => groups.size > 0)
        .map(([tier, groups]) => submitTier(tier, [...groups.values()], reads.get(tier)!, results, errors)),
    );
    // one wait covers every add of the batch: they all went over this connection
    const queued = results.filter((r) => r?.status === 'queued' && !r.parked).length;
    if (queued > 0) await replicated(queued);
    // a content twice in the batch: the repeat is a duplicate of its first copy once
    // that is stored (or refused for good, as its first copy was); if the first copy
    // was not stored, neither is the repeat, and it says so
    for (const { i, first } of repeats) {
      const stored = results[first];
      if (errors[first] !== undefined || stored === undefined) errors[i] = errors[first];
      else results[i] = answer(submissions[i]!, stored.status === 'rejected' ? 'rejected' : 'duplicate');
    }
    return { results, errors };
  }

  /**
   * A tier's part of a batch: the Redis stage for all its tenants at once
   * (`queueTier`), then per tenant, side by side, what parks or goes to the
   * offline queue. A tenant whose Postgres part fails is told; the others go on.
   */
  async function submitTier(
    tier: Tier,
    groups: Group[],
    reads: Promise<TierReads>,
    results: SubmitResult[],
    errors: unknown[],
  ): Promise<void> {
    // the tenant's order: priority first (stable sort keeps arrival)
    for (const g of groups)
      g.items.sort((a, b) => (b.data.input.priority ?? 0) - (a.data.input.priority ?? 0));
    let plans: GroupPlan[];
    /** What the Redis stage held and sent, for what follows a time-out (`queueTier` fills it). */
    const progress: TierProgress = { held: new Map(), sent: new Set(), gaveUp: false };
    try {
      plans = await queueTier(tier, groups, reads, progress);
    } catch (e) {
      if (e instanceof ProducerError && e.code !== 'REDIS_TIMEOUT') {
        for (const g of groups) for (const { i } of g.items) errors[i] = e;
        releaseUnqueued(tier, progress, []);
        return;
      }
      progress.gaveUp = true;
      // Redis is away: the tier's submissions go to Postgres, but for those whose
      // content the read found waiting in the queue
      const states = await reads.then(
        (r) => r.states,
        () => undefined,
      );
      plans = groups.map((group) => {
        const plan = emptyPlan(group);
        for (const item of group.items) {
          if (states?.get(item.jobId) === 'live') plan.duplicates.push(item);
          else
            plan.overflow.push({
              item,
              reason: 'redis_unavailable',
              cause: e,
              maybeQueued: progress.sent.has(item.jobId),
            });
        }
        return plan;
      });
    }
    releaseUnqueued(tier, progress, plans);
    const pending = [...plans];
    const run = async () => {
      for (let plan = pending.shift(); plan; plan = pending.shift()) {
        try {
          await settleGroup(plan, results, errors);
        } catch (e) {
          // a typed error says what happened; anything else may have come after a store
          for (const { i } of plan.group.items) if (!results[i]) errors[i] = submitFailure(e);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(GROUPS_SIDE_BY_SIDE, pending.length) }, run));
  }

  /**
   * Lets the budget go of the units held for jobs that did not go to the tier
   * queue after all (the backlog was full, Redis refused the add or did not
   * answer in time), so the tenant's next job may take them now rather than
   * when the holds expire. A job whose add was sent keeps its unit: it may
   * have landed. In the background, each release within redisTimeoutMs: the
   * caller's answer never waits on it, and a hold not let go expires by itself.
   */
  function releaseUnqueued(tier: Tier, progress: TierProgress, plans: readonly GroupPlan[]): void {
    if (progress.held.size === 0 || !options.budget) return;
    const budget = options.budget;
    const queued = new Set(plans.flatMap((p) => p.queue.map((x) => x.jobId)));
    const releases = [...progress.held].flatMap(([tenantId, jobIds]) =>
      jobIds
        .filter((id) => !queued.has(id) && !progress.sent.has(id))
        .map((id) =>
          withTimeout(budget.release(tenantId, tier, id), timeoutMs).catch((e: unknown) =>
            logger.warn(
              { tenantId, tier, jobId: id, ...errorFields(e) },
              'a unit held for a job that did not go to the queue was not let go; it frees when the hold expires',
            ),
          ),
        ),
    );
    progress.held.clear();
    if (releases.length > 0) void track(Promise.all(releases));
  }

  function emptyPlan(group: Group): GroupPlan {
    const tally = { queued: 0, parked: 0 };
    return { group, tally, duplicates: [], queue: [], overflow: [], toPark: [] };
  }

  /**
   * The first Redis read of a tier's batch, in one round trip: the tenants'
   * tallies and the state of every job id, under one deadline for connecting
   * and reading together: a Redis that is away costs redisTimeoutMs, no more.
   */
  async function readTier(tier: Tier, groups: Group[]): Promise<TierReads> {
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    await ready(left());
    const { tallies, states } = await withTimeout(
      batchState(
        tier,
        groups.map((g) => g.tenantId),
        groups.flatMap((g) => g.items.map((x) => x.jobId)),
      ),
      left(),
    );
    return { tallies, states };
  }

  /**
   * The rest of a tier's Redis stage, once `reads` answered, under one
   * deadline (when it passes, the submissions go to Postgres, and an add that
   * Redis still carries out later is logged once): the budget's holds, tenants
   * side by side, then the adds (`addJobs`). Decides, answers nothing: the
   * caller does.
   */
  async function queueTier(
    tier: Tier,
    groups: Group[],
    reads: Promise<TierReads>,
    progress: TierProgress,
  ): Promise<GroupPlan[]> {
    // the Postgres look-up took what it took: the Redis work from here gets its own
    // redisTimeoutMs, and once that has passed it stops at the next step rather than
    // add jobs that are answered as overflowed
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    const inTime = () => {
      if (Date.now() >= deadline) {
        throw new ProducerError('REDIS_TIMEOUT', `Redis did not answer within ${timeoutMs} ms`);
      }
    };
    // the read keeps its own time limit (readTier)
    const { tallies, states } = await reads;
    return withTimeout(
      (async () => {
        const queue = queues.get(tier);
        // With a budget, only jobs the budget holds a unit for go to the queue (they are
        // admitted when they run, and the scheduler counts their units as taken).
        const holding = options.budget !== undefined && parking !== undefined;
        const plans = groups.map((group) => {
          const plan = emptyPlan(group);
          plan.tally = tallies.get(group.tenantId) ?? plan.tally;
          // while the tenant has parked work, everything parks behind it
          const parks = plan.tally.parked > 0 && parking !== undefined;
          for (const item of group.items) {
            // the same content waiting in the queue (not finished) is a duplicate
            if (states.get(item.jobId) === 'live') plan.duplicates.push(item);
            // a batch offers the budget its first jobs only
            else if (parks || (holding && plan.queue.length >= HOLD_CANDIDATES)) plan.toPark.push(item);
            else plan.queue.push(item);
          }
          return plan;
        });
        if (holding) {
          inTime();
          await Promise.all(
            plans
              .filter((p) => p.queue.length > 0)
              .map(async (p) => {
                try {
                  const hold = await options.budget!.hold(
                    p.group.tenantId,
                    tier,
                    p.queue.map((x) => x.jobId),
                  );
                  // the jobs the budget has no unit for park, first in line
                  p.toPark.unshift(...p.queue.splice(hold.held));
                  progress.held.set(
                    p.group.tenantId,
                    p.queue.map((x) => x.jobId),
                  );
                } catch (e) {
                  // this tenant's budget did not answer: its submissions go to Postgres,
                  // the other tenants' go on
                  const refused = p.queue.splice(0);
                  p.overflow.push(
                    ...refused.map((item) => ({ item, reason: 'redis_unavailable' as const, cause: e })),
                  );
                }
              }),
          );
          // the caller stopped waiting while the holds were asked: let them go now
          if (progress.gaveUp) releaseUnqueued(tier, progress, []);
        }
        const adding = plans.reduce((n, p) => n + p.queue.length, 0);
        if (adding === 0) return plans;
        inTime();
        // a finished job of the content goes: Postgres knows the content nowhere
        // (checked before, or away), so it is submitted again; a worker looks for its
        // receipt before it sends anything
        const finished = plans.flatMap((p) => p.queue).filter((x) => states.get(x.jobId) === 'finished');
        await Promise.all(finished.map((x) => queue.remove(x.jobId)));
        let fits = Math.max(0, config.offline.maxQueueSize - (await backlogOf(tier, adding)));
        for (const p of plans) {
          const over = p.queue.splice(Math.min(fits, p.queue.length));
          p.overflow.push(...over.map((item) => ({ item, reason: 'overflow' as const })));
          fits -= p.queue.length;
        }
        const jobs = plans.flatMap((p) => p.queue);
        const cached = backlogCache.get(tier);
        if (cached) cached.n += jobs.length;
        inTime();
        if (jobs.length > 0) {
          for (const x of jobs) progress.sent.add(x.jobId);
          await addJobs(tier, plans);
        }
        return plans;
      })(),
      left(),
    );
  }

  /**
   * Adds the plans' jobs to the tier queue, in chunks (`ADD_CHUNKS`) sent side
   * by side (Redis runs one while the next is encoded), or one by one for a
   * small batch (`ADD_ONE_BY_ONE_MAX`), and counts them in the
   * tenants' tallies in the same round trip. A chunk Redis refused moves to
   * its plans' overflow (Postgres) and out of the tallies again; the chunks
   * that went stay queued. An `addBulk` is a pipeline, not a transaction: a
   * chunk refused part-way may have queued some of its jobs, which are then
   * kept twice (queued and offline); a worker logs such a content once (its
   * content lock and receipt check).
   */
  async function addJobs(tier: Tier, plans: GroupPlan[]): Promise<void> {
    const queue = queues.get(tier);
    const total = plans.reduce((n, p) => n + p.queue.length, 0);
    const size = total <= ADD_ONE_BY_ONE_MAX ? 1 : Math.max(ADD_CHUNK_MIN, Math.ceil(total / ADD_CHUNKS));
    const chunks: { item: Item; plan: GroupPlan }[][] = [];
    let chunk: { item: Item; plan: GroupPlan }[] = [];
    for (const plan of plans) {
      for (const item of plan.queue) {
        chunk.push({ item, plan });
        if (chunk.length === size) {
          chunks.push(chunk);
          chunk = [];
        }
      }
    }
    if (chunk.length > 0) chunks.push(chunk);
    const perTenant = new Map(plans.map((p) => [p.group.tenantId, p.queue.length]));
    const [counted, ...outcomes] = await Promise.allSettled([
      lanes.count(tier, 'q', perTenant),
      ...chunks.map((c) =>
        c.length === 1
          ? queue.add(SUBMISSION_JOB, c[0]!.item.data, submissionJobOptions(config, c[0]!.item.jobId))
          : queue.addBulk(
              c.map(({ item: { data, jobId } }) => ({
                name: SUBMISSION_JOB,
                data,
                opts: submissionJobOptions(config, jobId),
              })),
            ),
      ),
    ]);
    if (counted.status === 'rejected') {
      logger.warn({ tier, ...errorFields(counted.reason) }, 'tenant tallies not counted for queued jobs');
    }
    const undo = new Map<string, number>();
    outcomes.forEach((outcome, k) => {
      if (outcome.status === 'fulfilled') return;
      for (const { item, plan } of chunks[k]!) {
        plan.queue.splice(plan.queue.indexOf(item), 1);
        // sent: an add refused after it was written may have landed all the same
        plan.overflow.push({ item, reason: 'redis_unavailable', cause: outcome.reason, maybeQueued: true });
        undo.set(plan.group.tenantId, (undo.get(plan.group.tenantId) ?? 0) - 1);
      }
    });
    if (undo.size > 0 && counted.status === 'fulfilled') {
      await lanes
        .count(tier, 'q', undo)
        .catch((e: unknown) =>
          logger.warn({ tier, ...errorFields(e) }, 'tenant tallies not corrected after a refused add'),
        );
    }
  }

  /**
   * The tier queue's backlog, counted again at most once a second while far
   * from `offline.maxQueueSize` (this producer's own adds are counted in between).
   */
  const backlogCache = new Map<Tier, { at: number; n: number }>();
  async function backlogOf(tier: Tier, adding: number): Promise<number> {
    const c = backlogCache.get(tier);
    const t = Date.now();
    const far = c !== undefined && c.n + adding < config.offline.maxQueueSize / 2;
    if (c && far && t - c.at < BACKLOG_CACHE_MS && t >= c.at) return c.n;
    const n = await queues.backlog(tier);
    backlogCache.set(tier, { at: t, n });
    return n;
  }

  /**
   * The tallies of `tenantIds` and the state of each of `jobIds` in the tier
   * queue (absent: no job; `live` while waiting, delayed or running;
   * `finished` once completed or failed), one pipelined round trip per `LOOKUP_BATCH` jobs.
   */
  async function batchState(
    tier: Tier,
    tenantIds: string[],
    jobIds: string[],
  ): Promise<{ tallies: Map<string, TenantTally>; states: Map<string, 'live' | 'finished'> }> {
    const queue = queues.get(tier);
    let tallies = new Map<string, TenantTally>();
    const states = new Map<string, 'live' | 'finished'>();
    for (let i = 0; i === 0 || i < jobIds.length; i += LOOKUP_BATCH) {
      const chunk = jobIds.slice(i, i + LOOKUP_BATCH);
      const read = await lanes.batchState(
        tier,
        i === 0 ? tenantIds : [],
        chunk.map((id) => queue.toKey(id)),
      );
      if (i === 0) tallies = read.tallies;
      read.states.forEach((state, k) => {
        if (state !== 'none') states.set(chunk[k]!, state);
      });
    }
    return { tallies, states };
  }

  /**
   * The submissions among `items` whose content has no job waiting in the tier
   * queue; one with a waiting job is answered `duplicate`, a finished job of
   * the content is removed (see `queueTier`).
   */
  async function notQueued(tier: Tier, items: readonly Item[], results: SubmitResult[]): Promise<Item[]> {
    const { states } = await batchState(
      tier,
      [],
      items.map((x) => x.jobId),
    );
    const fresh: Item[] = [];
    for (const item of items) {
      const state = states.get(item.jobId);
      if (state === 'live') {
        results[item.i] = answer(item.data, 'duplicate', item.jobId);
        continue;
      }
      if (state === 'finished') await queues.get(tier).remove(item.jobId);
      fresh.push(item);
    }
    return fresh;
  }

  /**
   * Queues submissions that were to park while Postgres does not answer: in the
   * tier queue, with no unit held (the worker's own decision admits or parks
   * them). Redis away too: nothing was stored, and the caller is told so.
   */
  async function queueUnparked(
    tier: Tier,
    tenantId: string,
    items: readonly Item[],
    results: SubmitResult[],
    cause: unknown,
  ): Promise<void> {
    logger.warn(
      { tenantId, tier, submissions: items.length, ...errorFields(cause) },
      'Postgres did not take the submissions to park them; they go to the tier queue unparked',
    );
    const deadline = Date.now() + timeoutMs;
    let adding = false;
    try {
      await withTimeout(
        (async () => {
          const fresh = await notQueued(tier, items, results);
          if (fresh.length === 0) return;
          // past the time limit nothing is added: the caller is told nothing was stored
          if (Date.now() >= deadline) {
            throw new ProducerError('REDIS_TIMEOUT', `Redis did not answer within ${timeoutMs} ms`);
          }
          adding = true;
          await queues.get(tier).addBulk(
            fresh.map(({ data, jobId }) => ({
              name: SUBMISSION_JOB,
              data,
              opts: submissionJobOptions(config, jobId),
            })),
          );
          const cached = backlogCache.get(tier);
          if (cached) cached.n += fresh.length;
          for (const { i, data, jobId } of fresh) results[i] = answer(data, 'queued', jobId);
          // the jobs are queued: a tally not counted costs the status line, not the answer
          await lanes
            .count(tier, 'q', new Map([[tenantId, fresh.length]]))
            .catch((e: unknown) =>
              logger.warn({ tier, ...errorFields(e) }, 'tenant tallies not counted for queued jobs'),
            );
        })(),
        timeoutMs,
      );
    } catch (e) {
      // an add cut short by the time limit may still land: say so, rather than "nothing"
      const stored = adding
        ? 'they may have been queued all the same; submitting them again is safe (a queued one is answered duplicate)'
        : 'nothing was stored, submit again';
      // OFFLINE_QUEUE_UNAVAILABLE says nothing was stored; SUBMIT_FAILED that it may have been
      throw new ProducerError(
        adding ? 'SUBMIT_FAILED' : 'OFFLINE_QUEUE_UNAVAILABLE',
        `the tenant's budget is spent, Postgres did not take the submissions to park them (${(cause as Error).message}) and Redis did not queue them (${(e as Error).message}); ${stored}`,
        { cause: e },
      );
    }
  }

  /** With Sentinel, a replica holds the jobs before they are answered `queued` (see `awaitReplicas`). */
  async function replicated(jobs: number): Promise<void> {
    const acknowledged = await awaitReplicas(
      redis,
      config.redis.topology,
      Math.min(REPLICA_WAIT_MS, timeoutMs),
    ).catch(() => false);
    if (!acknowledged) {
      logger.warn(
        { jobs },
        'no replica acknowledged the queued jobs in time; a failover now could lose them',
      );
    }
  }

  /** Answers a tenant's part of a tier's batch: queued, duplicates, overflow, and what parks. */
  async function settleGroup(plan: GroupPlan, results: SubmitResult[], errors: unknown[]): Promise<void> {
    const { tier, tenantId } = plan.group;
    for (const { i, data, jobId } of plan.duplicates) results[i] = answer(data, 'duplicate', jobId);
    for (const { i, data, jobId } of plan.queue) {
      const result = answer(data, 'queued', jobId);
      // a held unit is this job's now
      if (options.budget) result.estimatedSubmitAt = new Date(clock());
      results[i] = result;
    }
    // each on its own: one not stored does not stop the others, nor what parks
    for (const { item, reason, cause, maybeQueued } of plan.overflow) {
      try {
        results[item.i] = {
          ...answer(item.data, 'overflowed', item.jobId),
          ...(await overflow(item.data, item.jobId, reason, cause)),
        };
      } catch (e) {
        errors[item.i] = maybeQueued
          ? new ProducerError(
              'SUBMIT_FAILED',
              `Redis stopped answering after the submission was sent to it, and it could not be kept in Postgres (${(e as Error).message}); it may have been queued all the same: submitting it again is safe, a queued one is answered duplicate`,
              { cause: e },
            )
          : e;
      }
    }
    const toPark = plan.toPark;
    if (toPark.length === 0) return;
    let added: Map<string, number>;
    try {
      added = await parking!.park(toPark.map((p) => p.data));
    } catch (e) {
      // Postgres is away while Redis answers: rather than refuse, the submissions go
      // to the tier queue without a unit held; a worker parks what the budget refuses
      // once Postgres is back. They may run ahead of the tenant's parked work.
      await queueUnparked(tier, tenantId, toPark, results, e);
      return;
    }
    const n = added.get(tenantId) ?? 0;
    // The rows are in Postgres from here on: what follows cannot make them "not
    // stored". A lane Redis did not mark is rebuilt from the rows by the scheduler.
    try {
      // due at once if new: the scheduler looks at the budget before it releases anything
      if (n > 0) await lanes.mark(tier, tenantId, 0, n);
    } catch (e) {
      logger.warn(
        { tier, tenantId, parked: n, ...errorFields(e) },
        "the tenant's lane was not marked; the scheduler finds the parked submissions in Postgres",
      );
    }
    // which contents are parked (a content parked already, or kept elsewhere, was not
    // inserted): asked only when not all were inserted
    let inserted: Set<string>;
    const digests = toPark.map((p) => p.data.contentDigest);
    if (n === toPark.length) {
      inserted = new Set(digests);
    } else {
      try {
        inserted = await parking!.parkedOf(digests);
      } catch (e) {
        logger.warn(
          { tier, tenantId, ...errorFields(e) },
          'Postgres did not say which submissions it parked; all are answered parked',
        );
        inserted = new Set(digests);
      }
    }
    // ahead of it: the tenant's parked jobs (units held for queued ones count inside the estimate)
    let ahead = plan.tally.parked;
    const parked: { i: number; ahead: number }[] = [];
    for (const { i, data, jobId } of toPark) {
      if (!inserted.has(data.contentDigest)) {
        results[i] = answer(data, 'duplicate', jobId);
        continue;
      }
      results[i] = { ...answer(data, 'queued', jobId), parked: true };
      parked.push({ i, ahead: ahead++ });
      // over budget (or behind work that is): refused for now, as a worker counts its parks
      options.metrics?.rejected(tier, 'budget_exceeded');
    }
    if (!options.budget) return;
    try {
      for (const { i, ahead: before } of parked.slice(0, parked.length > ESTIMATES_MAX ? 1 : undefined)) {
        const at = await options.budget.estimate(tenantId, tier, before);
        results[i] = { ...results[i]!, estimatedSubmitAt: new Date(at) };
      }
    } catch (e) {
      // an estimate is a courtesy: the submissions are queued either way
      logger.debug({ tenantId, ...errorFields(e) }, 'no estimate of the submit time');
    }
  }

  /** The submission, once its statement fits `maxPayloadBytes`. */
  function checked(submission: Submission, canonicalLength?: number): Submission {
    checkPayloadSize(submission, config.maxPayloadBytes, canonicalLength);
    return submission;
  }

  function checkEnabled(): void {
    if (!config.enabled) {
      throw new ProducerError('REKOR_DISABLED', 'Rekor integration is disabled (rekor.enabled: false)');
    }
  }

  /** Runs `fn`, counting a refusal under its reason. */
  async function counted<T>(tier: Tier, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      options.metrics?.rejected(tier, rejectionReason(e));
      throw e;
    }
  }

  function graphSubmission(raw: unknown): Submission {
    checkEnabled();
    const input = validateGraphInput(raw);
    const { digest, canonicalLength } = contentIdentity('graph', input);
    return checked({ version: 1, tier: 'graph', contentDigest: digest, input }, canonicalLength);
  }

  function edgeSubmission(raw: unknown): Submission & { tier: 'edge' } {
    checkEnabled();
    if (config.tier !== 'with-edges' || !config.edgeBundles.enabled) {
      throw new ProducerError(
        'TIER_DISABLED',
        config.tier !== 'with-edges'
          ? 'edge bundles are off: rekor.tier is graph-only; set tier: with-edges to submit Tier 2 bundles'
          : 'edge bundles are off: edgeBundles.enabled is false',
      );
    }
    const input = validateEdgeInput(raw);
    const triggers = firedTriggers(input, config.edgeBundles.triggers);
    if (triggers.length === 0) {
      throw new ProducerError(
        'NOT_ESCALATED',
        `no configured trigger escalates ${input.finding.cveId} (CVSS ${input.finding.cvss}, reachable ${input.finding.reachable}); edge bundles are submitted only on escalation`,
      );
    }
    const { digest, canonicalLength } = contentIdentity('edge', input);
    const submission = checked(
      { version: 1, tier: 'edge', contentDigest: digest, input, triggers },
      canonicalLength,
    );
    return submission as Submission & { tier: 'edge' };
  }

  function countTriggers(result: SubmitResult): void {
    if (result.triggers && (result.status === 'queued' || result.status === 'overflowed')) {
      options.metrics?.edgeBundleTriggered(...result.triggers);
    }
  }

  return {
    submitGraphAttestation: (raw) => counted('graph', async () => submit(graphSubmission(raw))),

    submitEdgeBundle: (raw) =>
      counted('edge', async () => {
        const result = await submit(edgeSubmission(raw));
        countTriggers(result);
        return result;
      }),

    async submitMany(requests) {
      if (!Array.isArray(requests)) {
        throw new ProducerError('INVALID_BATCH', 'submitMany takes an array of { tier, input }');
      }
      // Array.from visits the holes of a sparse array too (map skips them): a hole is a bad request
      const submissions = Array.from(requests, (r: SubmitRequest | undefined, index) => {
        let tier: Tier = 'graph';
        try {
          if (r?.tier === 'edge') tier = 'edge';
          if (r === null || typeof r !== 'object' || (r.tier !== 'graph' && r.tier !== 'edge')) {
            throw new ProducerError('INVALID_BATCH', 'a request is { tier: "graph" | "edge", input }');
          }
          return r.tier === 'graph' ? graphSubmission(r.input) : edgeSubmission(r.input);
        } catch (e) {
          const code = (e as { code?: string }).code;
          options.metrics?.rejected(tier, rejectionReason(e));
          throw new ProducerError(
            'INVALID_BATCH',
            `request ${index} was refused (${code ?? 'error'}: ${(e as Error).message}); nothing of the batch was stored`,
            { cause: e, index },
          );
        }
      });
      const results = await submitBatch(submissions);
      results.forEach(countTriggers);
      return results;
    },

    close() {
      // every call waits for the same closing
      closing ??= (async () => {
        closed = true;
        // submissions already made (single or batch) are answered first
        flush();
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        await queues.close();
        if (ownsRedis) redis.disconnect();
      })();
      return closing;
    },
  };
}

/** The `..._rejected_total{reason}` of a refused submission. */
function rejectionReason(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'PAYLOAD_TOO_LARGE') return 'payload_too_large';
  if (e instanceof InputError) return 'invalid_input';
  if (code === 'TIER_DISABLED') return 'tier_disabled';
  if (code === 'NOT_ESCALATED') return 'not_escalated';
  if (code === 'QUEUE_FULL') return 'queue_full';
  return 'other';
}

import type { Kysely } from 'kysely';
import {
  awaitReplicas,
  REPLICA_WAIT_MS,
  checkPayloadSize,
  contentDigest,
  createRedisConnection,
  createRedisKeys,
  errorFields,
  firedTriggers,
  InputError,
  silentLogger,
  validateEdgeInput,
  validateGraphInput,
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
  createReceiptStore,
  createTierQueues,
  jobIdFor,
  OfflineQueue,
  ParkingLot,
  RejectedStore,
  SUBMISSION_JOB,
  submissionJobOptions,
  type SubmissionJobData,
} from '@rekor-budget/queue';
import { ProducerError } from './error';

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
/** Tenants of one batch whose groups are submitted side by side. */
const GROUPS_SIDE_BY_SIDE = 8;

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
  const receipts = db ? createReceiptStore(db) : undefined;
  const rejected = db ? new RejectedStore(db) : undefined;
  const parking = db ? new ParkingLot(db) : undefined;
  const lanes = createLanes(redis, keys);
  let closed = false;

  function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ProducerError('REDIS_TIMEOUT', `Redis did not answer within ${timeoutMs} ms`)),
        ms,
      );
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
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
   * Which contents Postgres already holds: logged (a receipt), waiting offline
   * or parked, or refused for good. A failed look-up is no answer: the content
   * is submitted, and the worker checks again before it sends anything.
   */
  async function knownInPostgres(
    digests: Sha256Digest[],
  ): Promise<Map<string, 'logged' | 'offline' | 'rejected'>> {
    const out = new Map<string, 'logged' | 'offline' | 'rejected'>();
    if (!receipts || !offline || !rejected || !parking) return out;
    try {
      for (let i = 0; i < digests.length; i += LOOKUP_BATCH) {
        const chunk = digests.slice(i, i + LOOKUP_BATCH);
        const [logged, waiting, parked, refused] = await Promise.all([
          receipts.hasAny(chunk),
          offline.hasAny(chunk),
          parking.parkedOf(chunk),
          rejected.hasAny(chunk),
        ]);
        for (const d of chunk) {
          if (logged.has(d)) out.set(d, 'logged');
          else if (waiting.has(d) || parked.has(d)) out.set(d, 'offline');
          else if (refused.has(d)) out.set(d, 'rejected');
        }
      }
    } catch (e) {
      logger.warn(
        { submissions: digests.length, ...errorFields(e) },
        'Postgres look-up failed; submitting anyway',
      );
      out.clear();
    }
    return out;
  }

  function resultBase(submission: Submission) {
    const jobId = jobIdFor(submission.tier, submission.contentDigest);
    const triggers = submission.tier === 'edge' ? { triggers: submission.triggers } : {};
    return { jobId, contentDigest: submission.contentDigest, tier: submission.tier, ...triggers };
  }

  /**
   * Single submissions made in the same turn of the event loop go as one
   * batch: a scanner fleet's concurrent calls share the batch's round trips
   * (one Postgres look-up, one add per tenant) instead of each paying them.
   * Nothing waits for an earlier batch, so the fail-fast bound holds.
   */
  const waiting: { submission: Submission; resolve(r: SubmitResult): void; reject(e: unknown): void }[] = [];
  const inFlight = new Set<Promise<void>>();
  let flushScheduled = false;

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
      const run = (async () => {
        try {
          const { results, errors } = await submitSettled(batch.map((b) => b.submission));
          batch.forEach((b, i) => (errors[i] === undefined ? b.resolve(results[i]!) : b.reject(errors[i])));
        } catch (e) {
          for (const b of batch) b.reject(e);
        }
      })();
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
    }
  }

  async function submitBatch(submissions: Submission[]): Promise<SubmitResult[]> {
    if (closed) throw new ProducerError('CLOSED', 'the producer is closed');
    const { results, errors } = await submitSettled(submissions);
    const failed = errors.find((e) => e !== undefined);
    if (failed !== undefined) throw failed;
    return results as SubmitResult[];
  }

  /**
   * Submits validated submissions. Per tenant and tier, in the tenant's order
   * (priority, then arrival): while the tenant has parked work everything
   * parks behind it; otherwise as many go to the tier queue as the budget has
   * units free beyond the tenant's queued jobs, and the rest park.
   */
  async function submitSettled(
    submissions: Submission[],
  ): Promise<{ results: (SubmitResult | undefined)[]; errors: unknown[] }> {
    const results: SubmitResult[] = new Array(submissions.length);
    const errors: unknown[] = new Array(submissions.length);
    const now = clock();
    const known = await knownInPostgres(submissions.map((s) => s.contentDigest));
    const seen = new Set<string>();
    const groups = new Map<
      string,
      { tier: Tier; tenantId: string; items: { i: number; data: SubmissionJobData }[] }
    >();
    submissions.forEach((submission, i) => {
      const base = resultBase(submission);
      const k = known.get(submission.contentDigest);
      if (k === 'rejected') results[i] = { ...base, status: 'rejected' };
      else if (k !== undefined || seen.has(base.jobId)) results[i] = { ...base, status: 'duplicate' };
      if (results[i]) return;
      seen.add(base.jobId);
      const tenantId = submission.input.tenantId.toLowerCase();
      const g = `${submission.tier}:${tenantId}`;
      if (!groups.has(g)) groups.set(g, { tier: submission.tier, tenantId, items: [] });
      groups.get(g)!.items.push({ i, data: { ...submission, enqueuedAt: now } });
    });
    // tenants are independent: their groups go side by side, each in its tenant's order
    const pending = [...groups.values()];
    const runGroups = async () => {
      for (let group = pending.shift(); group; group = pending.shift()) {
        // the tenant's order: priority first (stable sort keeps arrival)
        group.items.sort((a, b) => (b.data.input.priority ?? 0) - (a.data.input.priority ?? 0));
        try {
          try {
            await submitGroup(group.tier, group.tenantId, group.items, results);
          } catch (e) {
            if (e instanceof ProducerError && e.code !== 'REDIS_TIMEOUT') throw e;
            for (const { i, data } of group.items) {
              if (results[i]) continue;
              const jobId = jobIdFor(data.tier, data.contentDigest);
              results[i] = { ...resultBase(data), ...(await overflow(data, jobId, 'redis_unavailable', e)) };
            }
          }
        } catch (e) {
          // this group's submissions are told; the other tenants' go on
          for (const { i } of group.items) if (!results[i]) errors[i] = e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(GROUPS_SIDE_BY_SIDE, pending.length) }, runGroups));
    // one wait covers every add of the batch: they all went over this connection
    const queued = results.filter((r) => r?.status === 'queued' && !r.parked).length;
    if (queued > 0) await replicated(queued);
    return { results, errors };
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

  /** The job ids among `jobIds` that are in the tier queue and not finished (one pipelined read each). */
  async function liveJobs(tier: Tier, jobIds: string[]): Promise<Set<string>> {
    const queue = queues.get(tier);
    const live = new Set<string>();
    for (let i = 0; i < jobIds.length; i += LOOKUP_BATCH) {
      const chunk = jobIds.slice(i, i + LOOKUP_BATCH);
      const pipeline = redis.pipeline();
      for (const id of chunk) pipeline.hmget(queue.toKey(id), 'timestamp', 'finishedOn');
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([err, value], k) => {
        if (err) throw err;
        const [created, finished] = value as (string | null)[];
        if (created !== null && finished === null) live.add(chunk[k]!);
      });
    }
    return live;
  }

  /**
   * The submissions among `items` whose content has no job waiting in the tier
   * queue; one with a waiting job is answered `duplicate`. A finished job of the
   * content is removed: Postgres knows the content nowhere (checked before, or
   * away), so it goes again rather than being answered `duplicate`; a worker
   * looks for its receipt before it sends anything.
   */
  async function notQueued(
    tier: Tier,
    items: readonly { i: number; data: SubmissionJobData }[],
    results: SubmitResult[],
  ): Promise<{ i: number; data: SubmissionJobData; jobId: string }[]> {
    const queue = queues.get(tier);
    const fresh: { i: number; data: SubmissionJobData; jobId: string }[] = [];
    for (const { i, data } of items) {
      const jobId = jobIdFor(tier, data.contentDigest);
      const existing = await queue.getJob(jobId);
      if (existing) {
        const state = await existing.getState();
        if (state !== 'completed' && state !== 'failed') {
          results[i] = { ...resultBase(data), status: 'duplicate' };
          continue;
        }
        await existing.remove();
      }
      fresh.push({ i, data, jobId });
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
    items: readonly { i: number; data: SubmissionJobData }[],
    results: SubmitResult[],
    cause: unknown,
  ): Promise<void> {
    logger.warn(
      { tenantId, tier, submissions: items.length, ...errorFields(cause) },
      'Postgres did not take the submissions to park them; they go to the tier queue unparked',
    );
    try {
      await withTimeout(
        (async () => {
          const fresh = await notQueued(tier, items, results);
          if (fresh.length === 0) return;
          await queues.get(tier).addBulk(
            fresh.map(({ data, jobId }) => ({
              name: SUBMISSION_JOB,
              data,
              opts: submissionJobOptions(config, jobId),
            })),
          );
          const cached = backlogCache.get(tier);
          if (cached) cached.n += fresh.length;
          await lanes.count(tier, 'q', new Map([[tenantId, fresh.length]]));
          for (const { i, data } of fresh) results[i] = { ...resultBase(data), status: 'queued' };
        })(),
        timeoutMs,
      );
    } catch (e) {
      throw new ProducerError(
        'OFFLINE_QUEUE_UNAVAILABLE',
        `the tenant's budget is spent, Postgres did not take the submissions to park them (${(cause as Error).message}) and Redis did not queue them (${(e as Error).message}); nothing was stored, submit again`,
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

  async function submitGroup(
    tier: Tier,
    tenantId: string,
    items: { i: number; data: SubmissionJobData }[],
    results: SubmitResult[],
  ): Promise<void> {
    // one deadline for connecting and the group's Redis work together: a Redis that is
    // away costs redisTimeoutMs, no more
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    await ready(left());
    const tally = (await withTimeout(lanes.tallies(tier, [tenantId]), left())).get(tenantId) ?? {
      queued: 0,
      parked: 0,
    };
    // With a budget, only jobs the budget holds a unit for go to the queue (they are
    // admitted when they run, and the scheduler counts their units as taken).
    const holding = options.budget !== undefined && parking !== undefined;
    let room = 0;
    if (tally.parked === 0 || !parking) {
      room = items.length;
      // the hold below decides; a batch offers the budget its first jobs only
      if (holding) room = Math.min(items.length, HOLD_CANDIDATES);
    }
    const toQueue = items.slice(0, room);
    const toPark = items.slice(room);
    const queuedAt = new Map<number, number>();
    if (toQueue.length > 0) {
      const queue = queues.get(tier);
      const fresh: { i: number; data: SubmissionJobData; jobId: string }[] = [];
      let fits = 0;
      let adding: typeof fresh = [];
      // One time limit over the whole Redis part: when it passes, the submissions go
      // to Postgres, and an add that Redis still carries out later is logged once.
      await withTimeout(
        (async () => {
          fresh.push(...(await notQueued(tier, toQueue, results)));
          if (holding && fresh.length > 0) {
            const { held } = await options.budget!.hold(
              tenantId,
              tier,
              fresh.map((f) => f.jobId),
            );
            // the jobs the budget has no unit for park, first in line
            toPark.unshift(...fresh.splice(held));
          }
          const backlog = fresh.length > 0 ? await backlogOf(tier, fresh.length) : 0;
          fits = Math.max(0, config.offline.maxQueueSize - backlog);
          adding = fresh.slice(0, fits);
          const cached = backlogCache.get(tier);
          if (cached) cached.n += adding.length;
          if (adding.length > 0) {
            await queue.addBulk(
              adding.map(({ data, jobId }) => ({
                name: SUBMISSION_JOB,
                data,
                opts: submissionJobOptions(config, jobId),
              })),
            );
            await lanes.count(tier, 'q', new Map([[tenantId, adding.length]]));
          }
        })(),
        left(),
      );
      for (const [n, { i, data }] of adding.entries()) {
        results[i] = { ...resultBase(data), status: 'queued' };
        // a held unit is this job's now
        queuedAt.set(i, -1 - n);
      }
      for (const { i, data, jobId } of fresh.slice(fits)) {
        results[i] = { ...resultBase(data), ...(await overflow(data, jobId, 'overflow')) };
      }
    }
    if (toPark.length > 0) {
      // the same content still waiting in the queue (not finished) is a duplicate
      const live = await withTimeout(
        liveJobs(
          tier,
          toPark.map((p) => jobIdFor(tier, p.data.contentDigest)),
        ),
        left(),
      );
      for (const p of toPark.splice(0)) {
        if (live.has(jobIdFor(tier, p.data.contentDigest)))
          results[p.i] = { ...resultBase(p.data), status: 'duplicate' };
        else toPark.push(p);
      }
    }
    let added: Map<string, number> | undefined;
    if (toPark.length > 0) {
      try {
        added = await parking!.park(toPark.map((p) => p.data));
      } catch (e) {
        // Postgres is away while Redis answers: rather than refuse, the submissions go
        // to the tier queue without a unit held; a worker parks what the budget refuses
        // once Postgres is back. They may run ahead of the tenant's parked work.
        await queueUnparked(tier, tenantId, toPark, results, e);
      }
    }
    if (added !== undefined) {
      const n = added.get(tenantId) ?? 0;
      // due at once if new: the scheduler looks at the budget before it releases anything
      if (n > 0) await lanes.mark(tier, tenantId, 0, n);
      const inserted = await parking!.parkedOf(toPark.map((p) => p.data.contentDigest));
      // ahead of it: the tenant's parked jobs (units held for queued ones count inside the estimate)
      let ahead = tally.parked;
      for (const { i, data } of toPark) {
        if (!inserted.has(data.contentDigest)) {
          results[i] = { ...resultBase(data), status: 'duplicate' };
          continue;
        }
        results[i] = { ...resultBase(data), status: 'queued', parked: true };
        queuedAt.set(i, ahead++);
      }
    }
    if (options.budget && queuedAt.size > 0) {
      try {
        for (const [i, ahead] of queuedAt) {
          const at = ahead < 0 ? clock() : await options.budget.estimate(tenantId, tier, ahead);
          results[i] = { ...results[i]!, estimatedSubmitAt: new Date(at) };
          if (queuedAt.size > ESTIMATES_MAX) break;
        }
      } catch (e) {
        // an estimate is a courtesy: the submissions are queued either way
        logger.debug({ tenantId, ...errorFields(e) }, 'no estimate of the submit time');
      }
    }
  }

  /** The submission, once its statement fits `maxPayloadBytes`. */
  function checked(submission: Submission): Submission {
    checkPayloadSize(submission, config.maxPayloadBytes);
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
      const code = (e as { code?: string }).code;
      const reason =
        code === 'PAYLOAD_TOO_LARGE'
          ? 'payload_too_large'
          : e instanceof InputError
            ? 'invalid_input'
            : code === 'TIER_DISABLED'
              ? 'tier_disabled'
              : code === 'NOT_ESCALATED'
                ? 'not_escalated'
                : code === 'QUEUE_FULL'
                  ? 'queue_full'
                  : 'other';
      options.metrics?.rejected(tier, reason);
      throw e;
    }
  }

  function graphSubmission(raw: unknown): Submission {
    checkEnabled();
    const input = validateGraphInput(raw);
    return checked({ version: 1, tier: 'graph', contentDigest: contentDigest('graph', input), input });
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
    const submission = checked({
      version: 1,
      tier: 'edge',
      contentDigest: contentDigest('edge', input),
      input,
      triggers,
    });
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
      const submissions = requests.map((r: SubmitRequest, index) => {
        const tier: Tier = r?.tier === 'edge' ? 'edge' : 'graph';
        try {
          if (r === null || typeof r !== 'object' || (r.tier !== 'graph' && r.tier !== 'edge')) {
            throw new ProducerError('INVALID_BATCH', 'a request is { tier: "graph" | "edge", input }');
          }
          return r.tier === 'graph' ? graphSubmission(r.input) : edgeSubmission(r.input);
        } catch (e) {
          const code = (e as { code?: string }).code;
          options.metrics?.rejected(tier, e instanceof InputError ? 'invalid_input' : 'other');
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

    async close() {
      if (closed) return;
      closed = true;
      // submissions already made are answered first
      flush();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await queues.close();
      if (ownsRedis) redis.disconnect();
    },
  };
}

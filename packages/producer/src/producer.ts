import type { Kysely } from 'kysely';
import {
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
  createReceiptStore,
  createTierQueues,
  jobIdFor,
  OfflineQueue,
  RejectedStore,
  SUBMISSION_JOB,
  submissionJobOptions,
  type SubmissionJobData,
} from '@rekor-budget/queue';
import { ProducerError } from './error';

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

/** What the producer asks of the budget for `estimatedSubmitAt`. */
export interface BudgetPeek {
  peek(tenantId: string, tier: Tier): Promise<{ admissible: boolean; retryAtMs: number | null }>;
}

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
   * For `queued`, with a budget: the earliest instant the tenant's budget
   * admits a submission of this tier. Jobs of the tenant already queued ahead
   * go first, so the real instant may be later.
   */
  estimatedSubmitAt?: Date;
}

export interface RekorProducer {
  submitGraphAttestation(input: unknown): Promise<SubmitResult>;
  submitEdgeBundle(input: unknown): Promise<SubmitResult>;
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
   * Where Postgres already holds the content: logged (a receipt), waiting
   * offline, or refused for good. A failed look-up is no answer: the content
   * is submitted, and the worker checks again before it sends anything.
   */
  async function knownInPostgres(
    digest: Sha256Digest,
  ): Promise<'logged' | 'offline' | 'rejected' | undefined> {
    if (!receipts || !offline || !rejected) return undefined;
    try {
      const [logged, waiting, refused] = await Promise.all([
        receipts.has(digest),
        offline.has(digest),
        rejected.has(digest),
      ]);
      return logged ? 'logged' : waiting ? 'offline' : refused ? 'rejected' : undefined;
    } catch (e) {
      logger.warn({ contentDigest: digest, ...errorFields(e) }, 'Postgres look-up failed; submitting anyway');
      return undefined;
    }
  }

  async function submit(submission: Submission): Promise<SubmitResult> {
    if (closed) throw new ProducerError('CLOSED', 'the producer is closed');
    const jobId = jobIdFor(submission.tier, submission.contentDigest);
    const triggers = submission.tier === 'edge' ? { triggers: submission.triggers } : {};
    const base = { jobId, contentDigest: submission.contentDigest, tier: submission.tier, ...triggers };
    const known = await knownInPostgres(submission.contentDigest);
    if (known === 'rejected') return { ...base, status: 'rejected' };
    if (known !== undefined) return { ...base, status: 'duplicate' };

    const data: SubmissionJobData = { ...submission, enqueuedAt: clock() };
    let outcome: 'queued' | 'duplicate' | 'full';
    try {
      // one deadline for connecting and queueing together: a Redis that is away costs timeoutMs, no more
      const deadline = Date.now() + timeoutMs;
      await ready(timeoutMs);
      const queue = queues.get(submission.tier);
      outcome = await withTimeout(
        (async () => {
          const existing = await queue.getJob(jobId);
          if (existing) {
            const state = await existing.getState();
            // A finished job of this content left it nowhere Postgres knows
            // (checked above): it is neither queued, offline nor logged, so it
            // goes again rather than being answered `duplicate`.
            if (state !== 'completed' && state !== 'failed') return 'duplicate';
            await existing.remove();
          }
          if ((await queues.backlog(submission.tier)) >= config.offline.maxQueueSize) return 'full';
          await queue.add(SUBMISSION_JOB, data, submissionJobOptions(config, jobId));
          return 'queued';
        })(),
        Math.max(1, deadline - Date.now()),
      );
    } catch (e) {
      return { ...base, ...(await overflow(data, jobId, 'redis_unavailable', e)) };
    }
    if (outcome === 'full') return { ...base, ...(await overflow(data, jobId, 'overflow')) };
    if (outcome === 'queued' && options.budget) {
      try {
        const st = await options.budget.peek(submission.input.tenantId, submission.tier);
        const at = st.admissible || st.retryAtMs === null ? clock() : st.retryAtMs;
        return { ...base, status: outcome, estimatedSubmitAt: new Date(at) };
      } catch (e) {
        // an estimate is a courtesy: the submission is queued either way
        logger.debug({ jobId, ...errorFields(e) }, 'no estimate of the submit time');
      }
    }
    return { ...base, status: outcome };
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

  return {
    submitGraphAttestation: (raw) =>
      counted('graph', async () => {
        checkEnabled();
        const input = validateGraphInput(raw);
        return submit(
          checked({ version: 1, tier: 'graph', contentDigest: contentDigest('graph', input), input }),
        );
      }),

    submitEdgeBundle: (raw) => counted('edge', () => submitEdge(raw)),

    async close() {
      if (closed) return;
      closed = true;
      await queues.close();
      if (ownsRedis) redis.disconnect();
    },
  };

  async function submitEdge(raw: unknown): Promise<SubmitResult> {
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
    const result = await submit(
      checked({ version: 1, tier: 'edge', contentDigest: contentDigest('edge', input), input, triggers }),
    );
    if (result.status === 'queued' || result.status === 'overflowed') {
      options.metrics?.edgeBundleTriggered(...triggers);
    }
    return result;
  }
}

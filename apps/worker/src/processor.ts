import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import {
  buildStatement,
  errorFields,
  InputError,
  MINUTE_MS,
  SECOND_MS,
  type SignedEnvelope,
} from '@rekor-budget/core';
import type { OfflineReason, RejectionReason } from '@rekor-budget/db';
import {
  createContentLock,
  createEnvelopeStore,
  submissionOf,
  type SubmissionJobData,
} from '@rekor-budget/queue';
import { receiptFromOutcome, RekorError, signEnvelope, type SubmitOutcome } from '@rekor-budget/rekor';
import { serviceDown } from './infrastructure';
import { createJobCheck } from './job-check';
import type { WorkerDeps } from './ports';

/** What a completed job returns (kept by BullMQ, shown in the dashboard). */
export type JobResult =
  | { status: 'created' | 'duplicate'; uuid: string; logIndex: number }
  | { status: 'already_logged' }
  | { status: 'offline'; reason: OfflineReason | 'rekor_offline' }
  /** Refused by the budget: parked in the tenant's lane; the scheduler releases it when a unit frees. */
  | { status: 'parked'; retryAt: string }
  | { status: 'rejected'; reason: RejectionReason; message: string };

/** How long a job waits before it tries again while Redis or Postgres is away (no attempt spent). */
export const INFRASTRUCTURE_RETRY_MS = 5 * SECOND_MS;

export interface ProcessorContext extends WorkerDeps {
  /** Set once the BullMQ worker exists (for `rateLimit`). */
  worker(): Worker;
}

/** How long a worker trusts a "Rekor offline" mark without a fresh probe. */
export function offlineMarkTtlMs(probeIntervalMs: number): number {
  return Math.max(4 * probeIntervalMs, MINUTE_MS);
}

/** Signals that steer a job (BullMQ's own), as opposed to failures. */
function isSignal(e: unknown): boolean {
  return (
    e instanceof DelayedError ||
    e instanceof UnrecoverableError ||
    (e instanceof Error && (e.name === 'DelayedError' || e.name === 'RateLimitError'))
  );
}

/**
 * The life of one submission job (DESIGN.md section 3): admit against the
 * budget, use the content's one envelope, POST, and act on Rekor's
 * classified answer. Every way out is decided here: a receipt, the offline
 * queue (Rekor away, or answering 5xx / not at all through every attempt),
 * the rejected table (a permanent refusal), or a later try that spends no
 * attempt (budget, Redis or Postgres away). Nothing transient ends `failed`.
 */
export function createProcessor(ctx: ProcessorContext) {
  const { tier, signer } = ctx;
  const {
    config,
    budget,
    client,
    receipts,
    quota,
    metrics,
    clock,
    redis,
    keys,
    offline,
    rejected,
    parking,
    lanes,
    db,
    logger,
  } = ctx.runtime;
  const log = logger.child({ component: 'worker', tier });
  const contentLock = createContentLock(redis, keys);
  const envelopes = createEnvelopeStore(db);
  // The lock covers one POST (bounded by the request timeout; a Rekor v2 write by its own) from its confirmation; a
  // dead holder blocks the content this long at most.
  const lockMs =
    config.requestTimeoutMs +
    (config.apiVersion === 2 || config.signingConfig !== undefined ? config.v2WriteTimeoutMs : 0) +
    15 * SECOND_MS;
  const checkJob = createJobCheck(ctx);

  /** The content's one envelope: stored before the first POST; a copy's own envelope only if none is. */
  /**
   * The content's one envelope: the stored one, else the job's own (a kit's)
   * or a new signature, stored first. `stored` is what the caller just read
   * (`null`: none was stored), which spares a look-up.
   */
  async function envelopeOf(
    data: SubmissionJobData,
    stored?: SignedEnvelope | null,
  ): Promise<SignedEnvelope> {
    const key = { tenantId: data.input.tenantId, tier: data.tier, contentDigest: data.contentDigest };
    const candidate = () =>
      data.envelope ??
      signEnvelope(buildStatement(submissionOf(data)), signer, { maxPayloadBytes: config.maxPayloadBytes });
    if (stored === undefined) return envelopes.obtain(key, candidate);
    return stored ?? envelopes.storeFirst(key, candidate());
  }

  async function reject(
    data: SubmissionJobData,
    reason: RejectionReason,
    message: string,
    envelope?: SignedEnvelope,
    httpStatus?: number,
  ): Promise<JobResult> {
    await rejected.add(
      data,
      { reason, message, logUrl: client.logUrl, ...(httpStatus === undefined ? {} : { httpStatus }) },
      envelope,
    );
    metrics.submission(tier, 'rejected');
    log.warn({ contentDigest: data.contentDigest, reason, httpStatus }, `kept as rejected: ${message}`);
    return { status: 'rejected', reason, message };
  }

  // the job's content may sit in a row a drain moved into this job and is about to
  // delete: the row is taken over, so that delete removes nothing (see OfflineQueue.add)
  async function toOffline(data: SubmissionJobData, reason: OfflineReason): Promise<JobResult> {
    await offline.add(data, reason, { takeOver: true });
    metrics.submission(tier, 'offline');
    return { status: 'offline', reason };
  }

  return async function process(job: Job<SubmissionJobData>, token?: string): Promise<JobResult> {
    // what the producer would have made of this input, or refused: never signed
    try {
      checkJob(job.data);
    } catch (e) {
      // refused for good: a unit held for it goes to the tenant's next job now
      await letGo(job);
      throw e;
    }
    try {
      return await run(job, token);
    } catch (e) {
      if (isSignal(e)) throw e;
      const down = await serviceDown(ctx.runtime);
      if (down === undefined) throw e;
      // Redis or Postgres is away: try again later without spending an attempt.
      // With Redis away the job cannot be moved; it stays active, its lock
      // lapses and BullMQ's stalled check hands it out again once Redis is back.
      log.warn({ jobId: job.id, service: down, ...errorFields(e) }, `${down} is unavailable; the job waits`);
      await job
        .moveToDelayed(Date.now() + INFRASTRUCTURE_RETRY_MS, token)
        .catch((moveError: unknown) =>
          log.debug(errorFields(moveError), 'the job could not be delayed; it is handed out again later'),
        );
      throw new DelayedError();
    }
  };

  async function run(job: Job<SubmissionJobData>, token?: string): Promise<JobResult> {
    const data = job.data;
    if (config.offline.airGapped) {
      const envelope = await signedOrRejected(data);
      const result = 'status' in envelope ? envelope : await toOffline({ ...data, envelope }, 'air_gapped');
      await letGo(job);
      return result;
    }

    if ((await redis.get(keys.rekorState)) === 'offline') {
      await offline.add(data, 'rekor_unreachable', { takeOver: true });
      metrics.submission(tier, 'offline');
      await letGo(job);
      return { status: 'offline', reason: 'rekor_offline' };
    }

    // One run at a time per content: a drained copy and a fresh submission of
    // the same scan, or a frozen worker and its successor, must not both POST.
    const owner = `${job.id ?? '?'}:${token ?? '?'}`;
    if (!(await contentLock.acquire(data.contentDigest, owner, lockMs))) {
      await job.moveToDelayed(Date.now() + 5 * SECOND_MS, token);
      throw new DelayedError();
    }
    try {
      return await admitted(job, owner, token);
    } finally {
      // the outcome stands: a lock not released only holds other copies of the
      // content back until it expires (lockMs)
      await contentLock
        .release(data.contentDigest, owner)
        .catch((e: unknown) =>
          log.warn(
            { jobId: job.id, ...errorFields(e) },
            'the content lock was not released; other copies of the content wait until it expires',
          ),
        );
    }
  }

  /** The envelope, or the rejection of a submission that cannot be signed. */
  async function signedOrRejected(
    data: SubmissionJobData,
    stored?: SignedEnvelope | null,
  ): Promise<SignedEnvelope | JobResult> {
    try {
      return await envelopeOf(data, stored);
    } catch (e) {
      if (e instanceof RekorError || e instanceof InputError) {
        metrics.rejected(tier, e.code === 'PAYLOAD_TOO_LARGE' ? 'payload_too_large' : 'invalid_input');
        return reject(data, 'invalid_submission', `${e.message} [${e.code}]`);
      }
      throw e;
    }
  }

  async function admitted(job: Job<SubmissionJobData>, owner: string, token?: string): Promise<JobResult> {
    const data = job.data;
    const tenantId = data.input.tenantId;
    // the receipt and the stored envelope, read side by side. A receipt of any log
    // counts (as for the producer): a content logged in a shard since frozen and
    // rotated is in the log service already, and is not sent to the next shard
    const [logged, earlier] = await Promise.all([
      receipts.findAny(data.contentDigest),
      envelopes.get(data.contentDigest),
    ]);
    if (logged !== undefined) {
      metrics.submission(tier, 'duplicate');
      await letGo(job);
      return { status: 'already_logged' };
    }
    // A released job spends the unit the scheduler holds for it (its job id names the hold).
    const decision = await budget.tryConsume(tenantId, tier, job.id);
    if (!decision.admitted) {
      // Over budget is not failure: park the job in its tenant's lane (Postgres),
      // out of the queue. The scheduler releases it once, when a unit is free for it.
      metrics.rejected(tier, 'budget_exceeded');
      // a released job refused again takes its content's row over, should the
      // release's delete of that row still be to come (see ParkingLot.park)
      const added = await parking.park([data], { takeOver: true });
      await lanes.mark(tier, tenantId, decision.retryAtMs, added.get(tenantId.toLowerCase()) ?? 0);
      return { status: 'parked', retryAt: new Date(decision.retryAtMs).toISOString() };
    }
    // Until the POST leaves, the unit went nowhere: give it back on any way out.
    let sent = false;
    try {
      // A content whose envelope is stored may have reached the log already (a POST
      // left unanswered, a worker that died mid-request, a kit logged elsewhere): look
      // first, so an entry the log holds costs no POST, and its unit is given back.
      if (earlier !== undefined) {
        const found = await client.lookup(earlier, (e) =>
          log.debug({ jobId: job.id, ...errorFields(e) }, 'the look-up failed; the envelope is sent again'),
        );
        if (found?.kind === 'duplicate') return await recordLogged(data, found);
      }
      const envelope = await signedOrRejected(data, earlier ?? null);
      if ('status' in envelope) return envelope;
      // A run whose lock lapsed (a worker frozen past its lifetime) must not send.
      if (!(await contentLock.confirm(data.contentDigest, owner, lockMs))) {
        log.warn({ jobId: job.id }, 'the content lock lapsed before the POST; the job waits and retries');
        await job.moveToDelayed(Date.now() + 5 * SECOND_MS, token);
        throw new DelayedError();
      }
      sent = true;
      const outcome = await client.submit(envelope);
      return await settle(job, outcome, envelope, decision.unitId);
    } finally {
      if (!sent) await giveBack(tenantId, decision.unitId, decision.atMs);
    }
  }

  /**
   * A job that ends before it asks the budget (its content logged already,
   * Rekor marked offline, an air-gapped site) lets go of the unit the
   * scheduler or the producer may hold for it: the tenant's parked jobs take
   * it now rather than when the hold expires. A failure here costs only that
   * wait, so it is logged and the job's outcome stands.
   */
  async function letGo(job: Job<SubmissionJobData>): Promise<void> {
    // a job refused by its check may carry no tenant at all: it held nothing then
    const tenantId: unknown = (job.data as Partial<SubmissionJobData> | undefined)?.input?.tenantId;
    if (job.id === undefined || typeof tenantId !== 'string') return;
    try {
      if (await budget.release(tenantId, tier, job.id)) await lanes.wake(tier, tenantId, clock());
    } catch (e) {
      log.warn(
        { jobId: job.id, tenantId, ...errorFields(e) },
        'the unit held for the job was not let go; it frees when the hold expires',
      );
    }
  }

  /**
   * Gives a unit back to the tenant's budget; the tenant's parked jobs, if
   * any, are looked at again now rather than when their window frees (their
   * lane was scheduled while this unit was taken).
   */
  async function giveBack(tenantId: string, unitId: string, at: number): Promise<void> {
    if (!(await budget.refund(tenantId, tier, unitId))) return;
    await lanes
      .wake(tier, tenantId, at)
      .catch((e: unknown) =>
        log.warn(
          { tenantId, ...errorFields(e) },
          'the lane was not woken after a refund; its parked jobs wait for their window',
        ),
      );
  }

  /** The receipt of a content the log holds, stored once; the quota mirror and metrics updated. */
  async function recordLogged(
    data: SubmissionJobData,
    outcome: Extract<SubmitOutcome, { kind: 'created' | 'duplicate' }>,
  ): Promise<JobResult> {
    const tenantId = data.input.tenantId;
    const receipt = receiptFromOutcome(outcome, { tenantId, tier, contentDigest: data.contentDigest });
    if (!(await receipts.save(receipt))) {
      log.debug({ contentDigest: data.contentDigest }, 'the receipt was stored already by another copy');
    }
    await quota.record(tenantId, tier, new Date(clock()));
    metrics.submission(tier, outcome.kind);
    metrics.latencySince(tier, data.enqueuedAt, clock());
    return { status: outcome.kind, uuid: outcome.entry.uuid, logIndex: outcome.entry.logIndex };
  }

  async function settle(
    job: Job<SubmissionJobData>,
    outcome: SubmitOutcome,
    envelope: SignedEnvelope,
    unitId: string,
  ): Promise<JobResult> {
    const data = job.data;
    const tenantId = data.input.tenantId;
    const lastAttempt = job.attemptsMade + 1 >= config.retry.maxAttempts;
    switch (outcome.kind) {
      case 'created':
      case 'duplicate':
        return recordLogged(data, outcome);
      case 'rate_limited': {
        // a 429 is both a failed request and a submission Rekor refused for now (the runbook's rate_limited)
        metrics.error(tier, 'rate_limited');
        metrics.rejected(tier, 'rate_limited');
        await ctx.worker().rateLimit(Math.max(outcome.retryAfterMs ?? config.retry.initialDelayMs, 1));
        throw Worker.RateLimitError();
      }
      case 'retryable': {
        const timedOut = outcome.code === 'ETIMEDOUT';
        metrics.error(tier, timedOut ? 'timeout' : 'retryable');
        if (!lastAttempt) throw new Error(retryableReason(outcome));
        // Every attempt met a 5xx or no answer: keep it offline, the drain replays it.
        return toOffline(data, timedOut ? 'rekor_timeout' : 'rekor_error');
      }
      case 'unreachable': {
        // the request never reached Rekor: the unit is given back
        await giveBack(tenantId, unitId, clock());
        metrics.error(tier, 'unreachable');
        if (!lastAttempt) throw new Error(`Rekor is unreachable (${outcome.code}): ${outcome.message}`);
        await redis.set(keys.rekorState, 'offline', 'PX', offlineMarkTtlMs(config.offline.probeIntervalMs));
        return toOffline(data, 'rekor_unreachable');
      }
      case 'rejected':
        metrics.error(tier, 'rejected');
        return reject(
          data,
          'rejected',
          `Rekor rejected the entry (HTTP ${outcome.status}): ${outcome.message}`,
          envelope,
          outcome.status,
        );
      case 'frozen':
        metrics.error(tier, 'frozen');
        return reject(data, 'frozen', outcome.message, envelope, outcome.status);
      case 'timestamp_failed': {
        // the timestamp comes before the POST: nothing reached the log, the unit is given back
        await giveBack(tenantId, unitId, clock());
        metrics.error(tier, 'timestamp');
        if (!lastAttempt) throw new Error(`${outcome.message}; nothing was sent to the log`);
        // every attempt met a failing TSA: kept offline, the drain replays it
        return toOffline(data, 'timestamp_unavailable');
      }
      case 'invalid_response':
        metrics.error(tier, 'invalid_response');
        return reject(
          data,
          'invalid_response',
          `the log at ${outcome.logUrl} answered with a malformed response, not retried: ${outcome.message}`,
          envelope,
          outcome.status,
        );
    }
  }
}

/**
 * Why an attempt is retried, in words that say what Rekor did: an answer
 * with a status (5xx, 408), no answer in time, a connection that broke
 * before the answer; anything else says its code and message as they are.
 */
export function retryableReason(outcome: { status?: number; code?: string; message: string }): string {
  if (outcome.status !== undefined) return `Rekor answered HTTP ${outcome.status}: ${outcome.message}`;
  if (outcome.code === 'ETIMEDOUT') return `Rekor did not answer in time: ${outcome.message}`;
  if (outcome.code === 'ECONNRESET' || outcome.code === 'EPIPE')
    return `the connection to Rekor broke before its answer (${outcome.code}): ${outcome.message}`;
  return `retrying (${outcome.code ?? 'UNKNOWN'}): ${outcome.message}`;
}

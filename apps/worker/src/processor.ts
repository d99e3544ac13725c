import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { MINUTE_MS, SECOND_MS, type SignedEnvelope } from '@rekor-budget/core';
import { createContentLock, submissionOf, type SubmissionJobData } from '@rekor-budget/queue';
import { buildStatement, receiptFromOutcome, RekorError, signEnvelope } from '@rekor-budget/rekor';
import { createJobCheck } from './job-check';
import type { WorkerDeps } from './ports';

/** What a completed job returns (kept by BullMQ, shown in the dashboard). */
export type JobResult =
  | { status: 'created' | 'duplicate'; uuid: string; logIndex: number }
  | { status: 'already_logged' }
  | { status: 'offline'; reason: 'rekor_unreachable' | 'rekor_offline' | 'air_gapped' };

/** A job delayed for budget more often than this is failed: something is wrong with the clock. */
export const MAX_BUDGET_DELAYS = 10_000;

export interface ProcessorContext extends WorkerDeps {
  /** Set once the BullMQ worker exists (for `rateLimit`). */
  worker(): Worker;
}

/** How long a worker trusts a "Rekor offline" mark without a fresh probe. */
export function offlineMarkTtlMs(probeIntervalMs: number): number {
  return Math.max(4 * probeIntervalMs, MINUTE_MS);
}

/**
 * The life of one submission job (DESIGN.md section 3): admit against the
 * budget, sign once, POST, and act on Rekor's classified answer.
 */
export function createProcessor(ctx: ProcessorContext) {
  const { tier, signer } = ctx;
  const { config, budget, client, receipts, quota, metrics, clock, redis, keys, offline } = ctx.runtime;
  const contentLock = createContentLock(redis, keys);
  const checkJob = createJobCheck(ctx);

  async function signOnce(job: Job<SubmissionJobData>): Promise<SignedEnvelope> {
    if (job.data.envelope !== undefined) return job.data.envelope;
    let envelope;
    try {
      envelope = signEnvelope(buildStatement(submissionOf(job.data)), signer, {
        maxPayloadBytes: config.maxPayloadBytes,
      });
    } catch (e) {
      if (e instanceof RekorError) {
        metrics.rejected(tier, e.code === 'PAYLOAD_TOO_LARGE' ? 'payload_too_large' : 'invalid_input');
        throw new UnrecoverableError(`${e.message} [${e.code}]`);
      }
      throw e;
    }
    // persisted before the first POST: every retry re-sends the same bytes
    await job.updateData({ ...job.data, envelope });
    return envelope;
  }

  return async function process(job: Job<SubmissionJobData>, token?: string): Promise<JobResult> {
    // what the producer would have made of this input, or refused: never signed
    checkJob(job.data);
    const data = job.data;
    if (config.offline.airGapped) {
      await signOnce(job);
      await offline.add(job.data, 'air_gapped');
      metrics.submission(tier, 'offline');
      return { status: 'offline', reason: 'air_gapped' };
    }

    if ((await redis.get(keys.rekorState)) === 'offline') {
      await offline.add(data, 'rekor_unreachable');
      metrics.submission(tier, 'offline');
      return { status: 'offline', reason: 'rekor_offline' };
    }

    // One job at a time per content: a drained copy and a fresh submission of
    // the same scan must not both reach Rekor.
    const lockMs = 2 * config.requestTimeoutMs + MINUTE_MS;
    const owner = job.id ?? '?';
    if (!(await contentLock.acquire(data.contentDigest, owner, lockMs))) {
      await job.moveToDelayed(clock() + 5 * SECOND_MS, token);
      throw new DelayedError();
    }
    try {
      return await admitted(job, token);
    } finally {
      await contentLock.release(data.contentDigest, owner);
    }
  };

  async function admitted(job: Job<SubmissionJobData>, token?: string): Promise<JobResult> {
    const data = job.data;
    const tenantId = data.input.tenantId;
    if ((await receipts.find(data.contentDigest, client.logUrl)) !== undefined) {
      metrics.submission(tier, 'duplicate');
      return { status: 'already_logged' };
    }
    const decision = await budget.tryConsume(tenantId, tier);
    if (!decision.admitted) {
      const delays = (data.budgetDelays ?? 0) + 1;
      if (delays > MAX_BUDGET_DELAYS) {
        throw new UnrecoverableError(
          `delayed for budget ${MAX_BUDGET_DELAYS} times; check the clocks of the workers and Redis`,
        );
      }
      await job.updateData({ ...data, budgetDelays: delays });
      metrics.rejected(tier, 'budget_exceeded');
      // never earlier than 10 ms from now, so a skewed clock cannot spin
      await job.moveToDelayed(Math.max(decision.retryAtMs, clock() + 10), token);
      throw new DelayedError();
    }

    const envelope = await signOnce(job);
    const outcome = await client.submit(envelope);

    switch (outcome.kind) {
      case 'created':
      case 'duplicate': {
        await receipts.save(
          receiptFromOutcome(outcome, { tenantId, tier, contentDigest: data.contentDigest }),
        );
        await quota.record(tenantId, tier, new Date(clock()));
        metrics.submission(tier, outcome.kind);
        metrics.latencySince(tier, data.enqueuedAt, clock());
        return { status: outcome.kind, uuid: outcome.entry.uuid, logIndex: outcome.entry.logIndex };
      }
      case 'rate_limited': {
        // a 429 is both a failed request and a submission Rekor refused for now (the runbook's rate_limited)
        metrics.error(tier, 'rate_limited');
        metrics.rejected(tier, 'rate_limited');
        await ctx.worker().rateLimit(Math.max(outcome.retryAfterMs ?? config.retry.initialDelayMs, 1));
        throw Worker.RateLimitError();
      }
      case 'retryable': {
        metrics.error(tier, 'retryable');
        throw new Error(`Rekor answered with a retryable error: ${outcome.message}`);
      }
      case 'unreachable': {
        await budget.refund(tenantId, tier, decision.unitId);
        metrics.error(tier, 'unreachable');
        if (job.attemptsMade + 1 < config.retry.maxAttempts) {
          throw new Error(`Rekor is unreachable (${outcome.code}): ${outcome.message}`);
        }
        await redis.set(keys.rekorState, 'offline', 'PX', offlineMarkTtlMs(config.offline.probeIntervalMs));
        await offline.add(job.data, 'rekor_unreachable');
        metrics.submission(tier, 'offline');
        return { status: 'offline', reason: 'rekor_unreachable' };
      }
      case 'rejected': {
        metrics.error(tier, 'rejected');
        metrics.submission(tier, 'rejected');
        throw new UnrecoverableError(`Rekor rejected the entry (HTTP ${outcome.status}): ${outcome.message}`);
      }
      case 'frozen': {
        metrics.error(tier, 'frozen');
        metrics.submission(tier, 'rejected');
        throw new UnrecoverableError(outcome.message);
      }
      case 'invalid_response': {
        metrics.error(tier, 'invalid_response');
        metrics.submission(tier, 'rejected');
        throw new UnrecoverableError(
          `the log at ${outcome.logUrl} answered with a malformed response, not retried: ${outcome.message}`,
        );
      }
    }
  }
}

import { UnrecoverableError } from 'bullmq';
import { checkSubmission, SubmissionError } from '@rekor-budget/core';
import { submissionOf, type SubmissionJobData } from '@rekor-budget/queue';
import { checkEnvelopeOf } from '@rekor-budget/rekor';
import type { WorkerDeps } from './ports';

/**
 * The check every job passes before the processor does anything with it
 * (DESIGN.md section 3, step 2): its submission is validated again with the
 * producer's own validation, its content digest recomputed (`checkSubmission`
 * of @rekor-budget/core), and an envelope it already carries must be this
 * worker's signature of exactly that statement (`checkEnvelopeOf`). A job
 * added or edited by anything but the producer and the drain fails here.
 *
 * The returned function throws an `UnrecoverableError` naming the reason and
 * its `SubmissionError` code (never retried, never signed) and counts it in
 * `attestor_rekor_submissions_rejected_total` (`invalid_input`, or
 * `payload_too_large`).
 */
export function createJobCheck(deps: WorkerDeps): (data: SubmissionJobData) => void {
  const { tier, signer, runtime } = deps;
  const { config, metrics } = runtime;
  return (data) => {
    try {
      const value: unknown = data !== null && typeof data === 'object' ? submissionOf(data) : data;
      const submission = checkSubmission(value, { tier, config });
      if (data.envelope !== undefined) checkEnvelopeOf(data.envelope, submission, signer);
    } catch (e) {
      if (!(e instanceof SubmissionError)) throw e;
      metrics.rejected(tier, e.code === 'PAYLOAD_TOO_LARGE' ? 'payload_too_large' : 'invalid_input');
      throw new UnrecoverableError(`refused before signing: ${e.message} [${e.code}]`);
    }
  };
}

import type { Receipt, Sha256Digest, Tier } from '@rekor-budget/core';
import type { SubmitOutcome } from './outcome';

/** The receipt of a `created` or `duplicate` outcome. */
export function receiptFromOutcome(
  outcome: Extract<SubmitOutcome, { kind: 'created' | 'duplicate' }>,
  submission: { tenantId: string; tier: Tier; contentDigest: Sha256Digest },
): Receipt {
  return {
    tenantId: submission.tenantId,
    tier: submission.tier,
    contentDigest: submission.contentDigest,
    uuid: outcome.entry.uuid,
    logIndex: outcome.entry.logIndex,
    integratedTime: new Date(outcome.entry.integratedTime * 1000),
    logId: outcome.entry.logId,
    logUrl: outcome.logUrl,
    bundle: outcome.bundle,
  };
}

import type { RekorConfig } from './config/schema';
import type { EdgeTrigger, Tier } from './domain';
import { InputError, SubmissionError } from './errors';
import { echo } from './redact';
import { checkPayloadSize } from './statement';
import {
  canonicalJson,
  contentDigest,
  firedTriggers,
  validateEdgeInput,
  validateGraphInput,
  type EdgeBundleInput,
  type GraphAttestationInput,
  type Submission,
} from './submission';

export interface CheckSubmissionOptions {
  /** The tier whose queue the submission came from. */
  tier: Tier;
  /** The configuration the producer validates under: Tier 2 switches and triggers, the size limit. */
  config: Pick<RekorConfig, 'tier' | 'maxPayloadBytes' | 'edgeBundles'>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Checks a queued submission the way the producer built it, before anything
 * is signed: the version and tier, the input through the producer's own
 * validation (and already in its normalized form), the size limit, the
 * content digest recomputed from the input, and for Tier 2 that the tier is
 * on and the triggers are exactly those the input fires under `config`.
 *
 * A job that did not come from the producer (added or edited by hand, e.g.
 * through a dashboard) fails here and is never signed. Returns the
 * submission rebuilt from the checked parts; throws `SubmissionError`.
 */
export function checkSubmission(value: unknown, options: CheckSubmissionOptions): Submission {
  const { tier, config } = options;
  if (!isRecord(value) || value.version !== 1) {
    throw new SubmissionError(
      'SUBMISSION_MALFORMED',
      'version',
      'is not a version 1 submission; submit it again through the producer',
    );
  }
  if (value.tier !== tier) {
    throw new SubmissionError(
      'SUBMISSION_MALFORMED',
      'tier',
      `${echo(value.tier)} is not the tier of the queue it came from (${tier}); submit it again through the producer`,
    );
  }

  let input: GraphAttestationInput | EdgeBundleInput;
  try {
    input = tier === 'graph' ? validateGraphInput(value.input) : validateEdgeInput(value.input);
    checkPayloadSize(
      tier === 'graph'
        ? {
            version: 1,
            tier,
            contentDigest: contentDigest(tier, input),
            input: input as GraphAttestationInput,
          }
        : {
            version: 1,
            tier,
            contentDigest: contentDigest(tier, input),
            input: input as EdgeBundleInput,
            triggers: Array.isArray(value.triggers) ? (value.triggers as EdgeTrigger[]) : [],
          },
      config.maxPayloadBytes,
    );
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new SubmissionError(
      e.code === 'PAYLOAD_TOO_LARGE' ? 'PAYLOAD_TOO_LARGE' : 'INPUT_INVALID',
      `input.${e.field}`,
      e.message.slice(e.field.length + 2),
      { cause: e },
    );
  }
  if (canonicalJson(input) !== canonicalJson(value.input)) {
    throw new SubmissionError(
      'INPUT_NOT_NORMALIZED',
      'input',
      'is not in the form the producer gives a validated input (extra keys, or values it normalizes); submit it again through the producer',
    );
  }

  const digest = contentDigest(tier, input);
  if (value.contentDigest !== digest) {
    throw new SubmissionError(
      'CONTENT_DIGEST_MISMATCH',
      'contentDigest',
      `${echo(value.contentDigest)} is not the digest of the input (${digest}); the job was altered: it is not signed`,
    );
  }
  if (tier === 'graph') {
    return { version: 1, tier, contentDigest: digest, input: input as GraphAttestationInput };
  }

  if (config.tier !== 'with-edges' || !config.edgeBundles.enabled) {
    throw new SubmissionError(
      'TIER_DISABLED',
      'tier',
      'edge bundles are off (rekor.tier graph-only, or edgeBundles.enabled false); nothing is signed',
    );
  }
  const edge = input as EdgeBundleInput;
  const triggers = firedTriggers(edge, config.edgeBundles.triggers);
  if (triggers.length === 0 || canonicalJson(triggers) !== canonicalJson(value.triggers)) {
    throw new SubmissionError(
      'TRIGGERS_MISMATCH',
      'triggers',
      `${echo(value.triggers)} are not the triggers the input fires under the configured edgeBundles.triggers (${echo(triggers)}); submit it again through the producer`,
    );
  }
  return { version: 1, tier, contentDigest: digest, input: edge, triggers };
}

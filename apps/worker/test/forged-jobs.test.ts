import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  contentDigest,
  firedTriggers,
  validateEdgeInput,
  validateGraphInput,
  type Submission,
} from '@rekor-budget/core';
import { jobIdFor, SUBMISSION_JOB, type SubmissionJobData } from '@rekor-budget/queue';
import { buildStatement, loadSigner, signEnvelope, writeKeyPair } from '@rekor-budget/rekor';
import { edgeInput } from '@rekor-budget/testing';
import { createHarness, graphInput, waitFor, type Harness } from './harness';

jest.setTimeout(60_000);

/**
 * Finding 1 of issue 14: a job that did not come from the producer (added or
 * edited through a dashboard, or written into Redis) is refused by the worker
 * before anything is signed, and cannot take a victim's content digest.
 */
let h: Harness;
const dir = mkdtempSync(join(tmpdir(), 'rb-forged-'));

beforeAll(async () => {
  h = await createHarness();
  h.startWorker('graph');
  h.startWorker('edge');
});

afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

function graphSubmission(tenantId: string, scanId: string): Submission {
  const input = validateGraphInput(graphInput(tenantId, scanId));
  return { version: 1, tier: 'graph', contentDigest: contentDigest('graph', input), input };
}

/** Adds a job straight to the tier queue, as bull-board's "add job" did; resolves to its failure code. */
async function forged(data: unknown, tier: 'graph' | 'edge' = 'graph'): Promise<string | undefined> {
  const job = await h.queues[tier].add(SUBMISSION_JOB, data as SubmissionJobData, {
    jobId: `forged-${randomUUID()}`,
    attempts: 3,
  });
  await waitFor(async () => (await job.getState()) === 'failed', 15_000, 'the forged job to fail');
  const failed = await h.queues[tier].getJob(job.id!);
  expect(failed?.attemptsMade).toBe(1);
  return /\[([A-Z_]+)\]$/.exec(failed?.failedReason ?? '')?.[1];
}

async function rejectedInvalid(tier: 'graph' | 'edge'): Promise<number> {
  const text = await h.runtime.registry.metrics();
  const m = new RegExp(
    `^attestor_rekor_submissions_rejected_total\\{tier="${tier}",reason="invalid_input"\\} (\\d+)$`,
    'm',
  ).exec(text);
  return Number(m?.[1] ?? 0);
}

describe('the worker re-validates every job before signing it', () => {
  test("a victim's content digest on other content is refused; the victim's own submission is logged later", async () => {
    const tenant = randomUUID();
    const victim = graphSubmission(tenant, 'victim-scan');
    const attacker = graphSubmission(tenant, 'attacker-scan');
    const before = await rejectedInvalid('graph');

    const code = await forged({ ...attacker, contentDigest: victim.contentDigest, enqueuedAt: Date.now() });
    expect(code).toBe('CONTENT_DIGEST_MISMATCH');
    expect(await h.treeSize()).toBe(0);
    expect(await h.receipts()).toHaveLength(0);
    expect(await rejectedInvalid('graph')).toBe(before + 1);

    const r = await h.producer.submitGraphAttestation(graphInput(tenant, 'victim-scan'));
    expect(r).toMatchObject({ status: 'queued', contentDigest: victim.contentDigest });
    const id = jobIdFor('graph', victim.contentDigest);
    await waitFor(
      async () => (await h.queues.graph.getJob(id))?.finishedOn !== undefined,
      15_000,
      "the victim's job",
    );
    expect((await h.receipts()).map((x) => x.contentDigest)).toEqual([victim.contentDigest]);
    const job = await h.queues.graph.getJob(id);
    expect(job?.returnvalue).toMatchObject({ status: 'created' });
  });

  test.each([
    [
      'input that fails validation',
      'INPUT_INVALID',
      (s: Submission) => ({ ...s, input: { ...s.input, scanId: '' } }),
    ],
    [
      'input the producer would have normalized',
      'INPUT_NOT_NORMALIZED',
      (s: Submission) => ({ ...s, input: { ...s.input, tenantId: s.input.tenantId.toUpperCase() } }),
    ],
    [
      'input with an extra key',
      'INPUT_NOT_NORMALIZED',
      (s: Submission) => ({ ...s, input: { ...s.input, note: 'unsigned text' } }),
    ],
    ['another version', 'SUBMISSION_MALFORMED', (s: Submission) => ({ ...s, version: 2 })],
    ['the other tier', 'SUBMISSION_MALFORMED', (s: Submission) => ({ ...s, tier: 'edge' })],
    ['no data at all', 'SUBMISSION_MALFORMED', () => null],
  ])('%s is refused with %s and nothing is signed', async (_what, code, alter) => {
    const s = graphSubmission(randomUUID(), `scan-${randomUUID()}`);
    const altered = alter(s);
    const data = altered === null ? null : { ...altered, enqueuedAt: Date.now() };
    const size = await h.treeSize();
    expect(await forged(data)).toBe(code);
    expect(await h.treeSize()).toBe(size);
  });

  test("an envelope in the job must be this site's signature of the job's statement", async () => {
    const s = graphSubmission(randomUUID(), 'enveloped');
    const other = await loadSigner(
      await writeKeyPair(join(dir, 'attacker.pem')).then((k) => ({ keyPath: k.privateKeyPath })),
    );
    const size = await h.treeSize();
    // signed by another key
    const foreign = signEnvelope(buildStatement(s), other);
    expect(await forged({ ...s, enqueuedAt: Date.now(), envelope: foreign })).toBe('ENVELOPE_MISMATCH');
    // signed by the site key, but of other content
    const elsewhere = signEnvelope(buildStatement(graphSubmission(randomUUID(), 'x')), h.signer);
    expect(await forged({ ...s, enqueuedAt: Date.now(), envelope: elsewhere })).toBe('ENVELOPE_MISMATCH');
    // the site's own envelope of this content passes and is sent as it is
    const own = signEnvelope(buildStatement(s), h.signer);
    await h.queues.graph.add(
      SUBMISSION_JOB,
      { ...s, enqueuedAt: Date.now(), envelope: own },
      { jobId: 'own' },
    );
    await waitFor(
      async () => (await h.queues.graph.getJob('own'))?.returnvalue?.status === 'created',
      15_000,
      'the own envelope',
    );
    expect(await h.treeSize()).toBe(size + 1);
  });

  test('a Tier 2 job must carry exactly the triggers its input fires', async () => {
    const input = validateEdgeInput(edgeInput(randomUUID(), 'edge-forged', 5.0));
    const s = {
      version: 1 as const,
      tier: 'edge' as const,
      contentDigest: contentDigest('edge', input),
      input,
    };
    expect(firedTriggers(input, h.config.edgeBundles.triggers)).toEqual([]);
    const before = await rejectedInvalid('edge');
    expect(await forged({ ...s, triggers: ['cvss'], enqueuedAt: Date.now() }, 'edge')).toBe(
      'TRIGGERS_MISMATCH',
    );
    expect(await rejectedInvalid('edge')).toBe(before + 1);
  });
});

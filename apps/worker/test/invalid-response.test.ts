import { randomUUID } from 'node:crypto';
import { createHarness, graphInput, waitFor, type Harness } from './harness';

jest.setTimeout(60_000);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test('a malformed answer from Rekor is kept as rejected at once, naming the log; it is not retried', async () => {
  h = await createHarness();
  // one malformed answer: a retry would be answered normally and complete the job
  h.rekor.faults.set({ mode: 'malformed', count: 1 });
  h.startWorker('graph');
  const r = await h.producer.submitGraphAttestation(graphInput(randomUUID(), 's'));
  await waitFor(
    async () => (await h!.queues.graph.getJobState(r.jobId)) === 'completed',
    10_000,
    'the job to complete',
  );
  const job = await h.queues.graph.getJob(r.jobId);
  expect(job?.attemptsMade).toBe(1);
  expect(job?.returnvalue).toMatchObject({ status: 'rejected', reason: 'invalid_response' });
  const [kept] = await h.rejected();
  expect(kept).toMatchObject({ contentDigest: r.contentDigest, reason: 'invalid_response' });
  expect(kept!.message).toContain(h.rekor.url);
  expect(kept!.message).toContain('malformed');
  expect(h.rekor.faults.current()).toBeUndefined();
  expect(await h.receipts()).toHaveLength(0);
  expect(await h.treeSize()).toBe(0);
});

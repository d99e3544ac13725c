import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStatement, contentDigest, validateGraphInput, type Submission } from '@rekor-budget/core';
import { exportKit, importKit, MANIFEST_FILE, type KitManifest } from '@rekor-budget/offline-kit';
import { OfflineQueue } from '@rekor-budget/queue';
import { loadSigner, signEnvelope, writeKeyPair } from '@rekor-budget/rekor';
import { createTestDatabase, type TestDatabase } from '@rekor-budget/testing';
import { createHarness, graphInput, waitFor, type Harness } from './harness';

/**
 * An offline kit imported at a connected site goes where a scanner's
 * submissions go: the tier queue, the tenant's budget, the 429 pause and
 * the metrics, and the log receives exactly the envelopes the air-gapped
 * site signed.
 */
jest.setTimeout(120_000);

let h: Harness | undefined;
let gapped: TestDatabase | undefined;
const dir = mkdtempSync(join(tmpdir(), 'rb-kit-import-'));

afterAll(async () => {
  await h?.close();
  await gapped?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** A kit of `n` Tier 1 attestations of `tenant`, signed by the air-gapped site's own key. */
async function airGappedKit(tenant: string, n: number) {
  gapped = await createTestDatabase();
  const key = await writeKeyPair(join(dir, 'gapped.pem'));
  const signer = await loadSigner({ keyPath: key.privateKeyPath });
  const queue = new OfflineQueue(gapped.db);
  for (let i = 0; i < n; i++) {
    const input = validateGraphInput(graphInput(tenant, `gapped-${i}`));
    const submission: Submission = {
      version: 1,
      tier: 'graph',
      contentDigest: contentDigest('graph', input),
      input,
    };
    const envelope = signEnvelope(buildStatement(submission), signer);
    await queue.add({ ...submission, enqueuedAt: Date.now(), envelope }, 'air_gapped');
  }
  const kitDir = join(dir, 'kit');
  await exportKit({
    db: gapped.db,
    outDir: kitDir,
    site: { logUrl: 'http://rekor.invalid', apiVersion: 1, entryKind: 'dsse', name: 'lab' },
  });
  return { kitDir, publicKeyPem: signer.publicKeyPem };
}

test('a kit goes through the tier queue: over-budget entries park until the budget frees, a 429 pauses the queue, the log gets the kit envelopes once', async () => {
  // 3 an hour, and a burst window as long as the hour: the fourth entry waits
  h = await createHarness({ budget: { hourlyLimit: 3, burstLimit: 3, burstWindow: '01:00:00' } });
  const tenant = randomUUID();
  const kit = await airGappedKit(tenant, 5);
  // one job at a time: the first meets the 429 on its look-up (an imported envelope is
  // stored, so the log is searched first) and again on its POST
  h.rekor.faults.set({ mode: '429', count: 2, method: 'POST', retryAfterSeconds: 1 });

  const report = await importKit({
    db: h.runtime.db,
    kitDir: kit.kitDir,
    producer: h.producer,
    trustedKeys: [kit.publicKeyPem],
  });
  expect(report.counts).toMatchObject({ queued: 5, failed: 0 });
  expect(h.rekor.treeSize()).toBe(0);

  h.startWorker('graph', { concurrency: 1 });
  h.startScheduler('graph');
  // the refused POST reached Rekor, so it spent a unit: two entries fit the hour
  await waitFor(async () => (await h!.receipts()).length === 2, 30_000, 'two receipts');
  await waitFor(async () => (await h!.parked(tenant)) === 3, 30_000, 'three entries parked for budget');
  expect(h.rekor.treeSize()).toBe(2);
  const text = await h.runtime.registry.metrics();
  expect(text).toMatch(/^attestor_rekor_submission_errors_total\{tier="graph",reason="rate_limited"\} 1$/m);
  expect(text).toMatch(/^attestor_rekor_submissions_total\{tier="graph",status="created"\} 2$/m);
  expect(text).toMatch(
    /^attestor_rekor_submissions_rejected_total\{tier="graph",reason="budget_exceeded"\} [1-9]\d*$/m,
  );
  const peek = await h.runtime.budget.peek(tenant, 'graph');
  expect(peek.windows.find((w) => w.name === 'hour')?.used).toBe(3);

  // an hour later the budget admits the rest
  h.advance(61 * 60_000);
  await waitFor(async () => (await h!.receipts()).length === 5, 30_000, 'five receipts');
  expect(h.rekor.treeSize()).toBe(5);
  expect(await h.queues.graph.getFailedCount()).toBe(0);

  // each log entry is the air-gapped site's own signature, as the kit carried it
  const manifest = JSON.parse(readFileSync(join(kit.kitDir, MANIFEST_FILE), 'utf8')) as KitManifest;
  const kitSignatures = manifest.entries
    .map(
      (e) =>
        (
          JSON.parse(readFileSync(join(kit.kitDir, e.file), 'utf8')) as {
            envelope: { signatures: { sig: string }[] };
          }
        ).envelope.signatures[0]!.sig,
    )
    .sort();
  const logged = (await h.receipts())
    .map(
      (r) =>
        (r.bundle as { dsseEnvelope: { signatures: { sig: string }[] } }).dsseEnvelope.signatures[0]!.sig,
    )
    .sort();
  expect(logged).toEqual(kitSignatures);

  // imported again: nothing queued, nothing logged twice
  const again = await importKit({
    db: h.runtime.db,
    kitDir: kit.kitDir,
    producer: h.producer,
    trustedKeys: [kit.publicKeyPem],
  });
  expect(again.counts).toMatchObject({ logged: 5, queued: 0 });
  expect(h.rekor.treeSize()).toBe(5);
});

import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { createReceiptStore } from '@rekor-budget/queue';
import { createTestDatabase, type TestDatabase } from '@rekor-budget/testing';
import {
  buildStatement,
  createRekorClient,
  createSigner,
  receiptFromOutcome,
  signEnvelope,
  verifyBundle,
  type RekorClient,
} from '@rekor-budget/rekor';
import { graphSubmission } from './fixtures';

const dataDir = mkdtempSync(join(tmpdir(), 'rb-rekor-receipts-'));
let server: RekorLocalServer;
let client: RekorClient;
let t: TestDatabase;
const signer = createSigner(
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
);

beforeAll(async () => {
  server = await startRekorLocal({ port: 0, dataDir });
  client = createRekorClient({ serverUrl: server.url, requestTimeoutMs: 5_000 });
  t = await createTestDatabase();
});
afterAll(async () => {
  client.close();
  await server.close();
  await t.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('submit, retry, store both receipts: one row, and the stored bundle verifies offline', async () => {
  const submission = graphSubmission('scan-receipt');
  const signed = signEnvelope(buildStatement(submission), signer);
  const store = createReceiptStore(t.db);
  const ids = {
    tenantId: submission.input.tenantId,
    tier: submission.tier,
    contentDigest: submission.contentDigest,
  };

  const first = await client.submit(signed);
  if (first.kind !== 'created') throw new Error(first.kind);
  expect(await store.save(receiptFromOutcome(first, ids))).toBe(true);

  // a crash before the job completed: the retry re-sends the envelope and saves again
  const retry = await client.submit(signed);
  if (retry.kind !== 'duplicate') throw new Error(retry.kind);
  expect(await store.save(receiptFromOutcome(retry, ids))).toBe(false);

  const stored = await store.find(submission.contentDigest, server.url);
  expect(stored).toMatchObject({
    uuid: first.entry.uuid,
    logIndex: first.entry.logIndex,
    logId: server.logId,
  });
  expect(stored!.integratedTime.getTime()).toBe(first.entry.integratedTime * 1000);
  expect(
    verifyBundle({
      bundle: stored!.bundle,
      trustedRoot: server.trustedRoot(),
      publicKeyPem: signer.publicKeyPem,
    }),
  ).toMatchObject({ verified: true, logIndex: first.entry.logIndex });
  expect((await client.logInfo()).treeSize).toBe(1);
});

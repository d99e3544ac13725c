import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  contentDigest,
  type EdgeBundleInput,
  type GraphAttestationInput,
  type Sha256Digest,
} from '@rekor-budget/core';
import { createReceiptStore, OfflineQueue, submissionOf, type SubmissionJobData } from '@rekor-budget/queue';
import {
  buildStatement,
  createRekorClient,
  loadSigner,
  receiptFromOutcome,
  signEnvelope,
  writeKeyPair,
  type RekorClient,
  type Signer,
} from '@rekor-budget/rekor';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { createTestDatabase, type TestDatabase } from '@rekor-budget/testing';
import { readKit } from '@rekor-budget/offline-kit';

export const TENANT = '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b';

export const hex = (seed: string) => Buffer.from(seed.padEnd(32, '.')).toString('hex').slice(0, 64);
export const digest = (seed: string) => `sha256:${hex(seed)}` as Sha256Digest;

export function graphSubmission(scanId: string): SubmissionJobData {
  const input: GraphAttestationInput = {
    tenantId: TENANT,
    scanId,
    subject: { name: 'registry.example/app', digest: digest(`img-${scanId}`) },
    graphDigest: digest(`graph-${scanId}`),
    scanner: { name: 'stella-scanner', version: '1.4.2' },
    scanStartedAt: '2025-12-20T09:59:00.000Z',
    scanFinishedAt: '2025-12-20T10:00:00.000Z',
    metadata: { branch: 'main', commit: 'abc' },
    priority: 3,
  };
  return { version: 1, tier: 'graph', contentDigest: contentDigest('graph', input), input, enqueuedAt: 1 };
}

export function edgeSubmission(scanId: string): SubmissionJobData {
  const input: EdgeBundleInput = {
    tenantId: TENANT,
    scanId,
    subject: { name: 'registry.example/app', digest: digest(`img-${scanId}`) },
    graphDigest: digest(`graph-${scanId}`),
    scanner: { name: 'stella-scanner', version: '1.4.2' },
    finding: { cveId: 'CVE-2024-3094', cvss: 9.8, reachable: true },
    escalation: { manual: { requestedBy: 'secteam' } },
    edges: [
      { from: 'main', to: 'parse' },
      { from: 'parse', to: 'lzma_decode', kind: 'call' },
    ],
  };
  return {
    version: 1,
    tier: 'edge',
    contentDigest: contentDigest('edge', input),
    input,
    triggers: ['cvss', 'manual'],
    enqueuedAt: 1,
  };
}

/** Two sites (air-gapped and connected), one rekor-local, one signing key. */
export interface Sites {
  dir: string;
  gapped: TestDatabase;
  connected: TestDatabase;
  rekor: RekorLocalServer;
  client: RekorClient;
  signer: Signer;
  publicKeyPem: string;
  /** Stores an air-gapped row as the worker does: signed once, envelope kept. */
  addAirGapped(data: SubmissionJobData): Promise<void>;
  /** Logs a kit's envelopes and stores the receipts at the connected site, as its workers do. */
  logKit(kitDir: string): Promise<void>;
  close(): Promise<void>;
}

export async function createSites(): Promise<Sites> {
  const dir = mkdtempSync(join(tmpdir(), 'rb-kit-'));
  const gapped = await createTestDatabase();
  const connected = await createTestDatabase();
  const rekor = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), fsync: false, faults: true });
  const client = createRekorClient({ serverUrl: rekor.url, requestTimeoutMs: 5_000 });
  const key = await writeKeyPair(join(dir, 'signing.pem'));
  const signer = await loadSigner({ keyPath: key.privateKeyPath });
  const queue = new OfflineQueue(gapped.db);
  return {
    dir,
    gapped,
    connected,
    rekor,
    client,
    signer,
    publicKeyPem: signer.publicKeyPem,
    async addAirGapped(data) {
      const envelope = signEnvelope(buildStatement(submissionOf(data)), signer);
      await queue.add({ ...data, envelope }, 'air_gapped');
    },
    async logKit(kitDir) {
      const kit = await readKit(kitDir, { trustedKeys: [signer.publicKeyPem] });
      const receipts = createReceiptStore(connected.db);
      for (const { entry, envelope } of kit.entries) {
        const outcome = await client.submit(envelope);
        if (outcome.kind !== 'created' && outcome.kind !== 'duplicate') {
          throw new Error(`rekor-local did not log ${entry.file}: ${outcome.kind}`);
        }
        await receipts.save(
          receiptFromOutcome(outcome, {
            tenantId: entry.tenantId,
            tier: entry.tier,
            contentDigest: entry.contentDigest,
          }),
        );
      }
    },
    async close() {
      client.close();
      await rekor.close();
      await gapped.drop();
      await connected.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every row of the tables a kit or receipts import may write, for before/after comparisons. */
export async function snapshot(t: TestDatabase): Promise<unknown> {
  const byDigest = (a: { contentDigest: string }, b: { contentDigest: string }) =>
    a.contentDigest < b.contentDigest ? -1 : 1;
  const entries = (await createReceiptStore(t.db).list({ limit: null })).sort(byDigest);
  const rows = (await new OfflineQueue(t.db).list())
    .map((r) => ({ ...r, contentDigest: r.content_digest }))
    .sort(byDigest);
  const envelopes = await t.db
    .selectFrom('attestor.rekor_envelopes')
    .select(['content_digest', 'envelope'])
    .orderBy('content_digest')
    .execute();
  return { entries, rows, envelopes };
}

import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignedEnvelope } from '@rekor-budget/core';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import {
  buildStatement,
  createRekorClient,
  createSigner,
  signEnvelope,
  verifyBundle,
  type RekorClient,
  type Signer,
  type SubmitOutcome,
} from '@rekor-budget/rekor';
import { codeOf, edgeSubmission, graphSubmission } from './fixtures';

const dataDir = mkdtempSync(join(tmpdir(), 'rb-rekor-submit-'));
let server: RekorLocalServer;
let client: RekorClient;
const clients: RekorClient[] = [];

function key(type: 'ec' | 'ed25519'): string {
  const pair =
    type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('ed25519');
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
const signer: Signer = createSigner(key('ec'));
let scans = 0;
/** A fresh graph attestation, signed once. */
function freshEnvelope(s: Signer = signer): SignedEnvelope {
  return signEnvelope(buildStatement(graphSubmission(`scan-${++scans}`)), s);
}

function clientFor(options: Partial<Parameters<typeof createRekorClient>[0]> = {}): RekorClient {
  const c = createRekorClient({ serverUrl: server.url, requestTimeoutMs: 5_000, ...options });
  clients.push(c);
  return c;
}

function verifies(outcome: SubmitOutcome, s: Signer = signer): ReturnType<typeof verifyBundle> {
  if (outcome.kind !== 'created' && outcome.kind !== 'duplicate') throw new Error(`got ${outcome.kind}`);
  return verifyBundle({
    bundle: outcome.bundle,
    trustedRoot: server.trustedRoot(),
    publicKeyPem: s.publicKeyPem,
  });
}

beforeAll(async () => {
  server = await startRekorLocal({ port: 0, dataDir, faults: true });
  client = clientFor();
});
afterEach(() => server.faults.clear());
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('submit to rekor-local (Rekor v1 API)', () => {
  test('created: the entry and a bundle that verifies offline', async () => {
    const before = (await client.logInfo()).treeSize;
    const outcome = await client.submit(freshEnvelope());
    expect(outcome.kind).toBe('created');
    if (outcome.kind !== 'created') return;
    expect(outcome.logUrl).toBe(server.url);
    expect(outcome.entry.logIndex).toBe(before);
    expect(outcome.entry.logId).toBe(server.logId);
    expect(outcome.entry.uuid).toMatch(/^[0-9a-f]{64,80}$/);
    expect(outcome.entry.integratedTime).toBeGreaterThan(1_700_000_000);
    expect(verifies(outcome)).toMatchObject({ verified: true, logIndex: before });
    expect((await client.logInfo()).treeSize).toBe(before + 1);
  });

  test('a retried envelope is a duplicate: the existing entry, and exactly one log entry', async () => {
    const signed = freshEnvelope();
    const first = await client.submit(signed);
    const size = (await client.logInfo()).treeSize;
    // the envelope travels as JSON job data between attempts
    const second = await client.submit(JSON.parse(JSON.stringify(signed)));
    const third = await clientFor().submit(signed);
    expect(first.kind).toBe('created');
    expect(second.kind).toBe('duplicate');
    expect(third.kind).toBe('duplicate');
    if (first.kind !== 'created' || second.kind !== 'duplicate') return;
    expect(second.entry).toEqual(first.entry);
    expect((await client.logInfo()).treeSize).toBe(size);
    expect(verifies(second).verified).toBe(true);
  });

  test('intoto entries and edge bundles are logged and verify too', async () => {
    const intoto = clientFor({ entryKind: 'intoto' });
    const signed = signEnvelope(buildStatement(edgeSubmission(200, 'scan-edge-intoto')), signer);
    const outcome = await intoto.submit(signed);
    expect(outcome.kind).toBe('created');
    expect(verifies(outcome).verified).toBe(true);
    expect((await intoto.submit(signed)).kind).toBe('duplicate');
  });

  test('Ed25519 keys sign envelopes that are logged and verify', async () => {
    const ed = createSigner(key('ed25519'));
    const outcome = await client.submit(freshEnvelope(ed));
    expect(outcome.kind).toBe('created');
    expect(verifies(outcome, ed).verified).toBe(true);
  });

  test('rate_limited: 429 with Retry-After parsed into retryAfterMs', async () => {
    server.faults.set({ mode: '429', count: 1, retryAfterSeconds: 7 });
    const outcome = await client.submit(freshEnvelope());
    expect(outcome).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 7_000 });
  });

  test('retryable: 503', async () => {
    server.faults.set({ mode: '503', count: 1 });
    expect(await client.submit(freshEnvelope())).toMatchObject({ kind: 'retryable', status: 503 });
  });

  test('retryable: an answer slower than requestTimeoutMs; the retry leaves one entry', async () => {
    const impatient = clientFor({ requestTimeoutMs: 200 });
    const signed = freshEnvelope();
    const size = (await client.logInfo()).treeSize;
    server.faults.set({ mode: 'slow', count: 1, delayMs: 1_000 });
    expect(await impatient.submit(signed)).toMatchObject({ kind: 'retryable', code: 'ETIMEDOUT' });
    // whether or not the abandoned request was logged, the retry yields the one entry
    expect(['created', 'duplicate']).toContain((await client.submit(signed)).kind);
    expect((await client.submit(signed)).kind).toBe('duplicate');
    expect((await client.logInfo()).treeSize).toBe(size + 1);
  });

  test('retryable: a connection reset', async () => {
    server.faults.set({ mode: 'offline', count: 1 });
    expect(await client.submit(freshEnvelope())).toMatchObject({ kind: 'retryable', code: 'ECONNRESET' });
  });

  test('unreachable: the log is down (connection refused)', async () => {
    server.faults.set({ mode: 'offline' });
    expect(await client.submit(freshEnvelope())).toMatchObject({ kind: 'unreachable', code: 'ECONNREFUSED' });
    server.faults.clear();
    // back up: the same client works again
    let outcome = await client.submit(freshEnvelope());
    while (outcome.kind === 'unreachable') {
      await new Promise((r) => setTimeout(r, 20));
      outcome = await client.submit(freshEnvelope());
    }
    expect(outcome.kind).toBe('created');
  });

  test('rejected: a tampered signature is a 400 with the log’s reason', async () => {
    const signed = freshEnvelope();
    const sig = Buffer.from(signed.envelope.signatures[0].sig, 'base64');
    sig[sig.length - 1] = sig[sig.length - 1]! ^ 0xff;
    const tampered: SignedEnvelope = {
      ...signed,
      envelope: {
        ...signed.envelope,
        signatures: [{ ...signed.envelope.signatures[0], sig: sig.toString('base64') }],
      },
    };
    const size = (await client.logInfo()).treeSize;
    const outcome = await client.submit(tampered);
    expect(outcome).toMatchObject({ kind: 'rejected', status: 400 });
    expect((outcome as { message: string }).message.length).toBeGreaterThan(0);
    expect((await client.logInfo()).treeSize).toBe(size);
  });

  test('rejected: an entry larger than the log accepts is a 413', async () => {
    const big = signEnvelope(buildStatement(edgeSubmission(2_000, 'scan-huge')), signer, {
      maxPayloadBytes: 1_000_000,
    });
    expect(await client.submit(big)).toMatchObject({ kind: 'rejected', status: 413 });
  });

  test('invalid_response: a 201 that is not a log entry', async () => {
    const size = (await client.logInfo()).treeSize;
    server.faults.set({ mode: 'malformed', count: 1 });
    expect(await client.submit(freshEnvelope())).toMatchObject({
      kind: 'invalid_response',
      logUrl: server.url,
      status: 201,
    });
    expect((await client.logInfo()).treeSize).toBe(size);
  });
});

describe('submit to rekor-local (Rekor v2 API)', () => {
  const v2Options = () => ({
    apiVersion: 2 as const,
    trustedRoot: server.trustedRoot(),
    timestampAuthorityUrl: `${server.url}/api/v1/timestamp`,
  });

  test('created, then duplicate (409, read back from tiles) for the same envelope, one log entry; both bundles verify offline with a timestamp', async () => {
    const v2 = clientFor(v2Options());
    const signed = freshEnvelope();
    const before = (await client.logInfo()).treeSize;
    const first = await v2.submit(signed);
    expect(first.kind).toBe('created');
    if (first.kind !== 'created') return;
    expect(first.entry.logIndex).toBe(before);
    expect(first.entry.logId).toBe(server.logId);
    expect(first.entry.uuid).toMatch(/^[0-9a-f]{64}$/);
    expect(verifies(first)).toMatchObject({ verified: true, logIndex: before });
    const second = await v2.submit(JSON.parse(JSON.stringify(signed)));
    expect(second.kind).toBe('duplicate');
    if (second.kind !== 'duplicate') return;
    expect(second.entry.logIndex).toBe(first.entry.logIndex);
    expect(second.entry.uuid).toBe(first.entry.uuid);
    expect(verifies(second)).toMatchObject({ verified: true, logIndex: before });
    expect((await client.logInfo()).treeSize).toBe(before + 1);
  });

  test('a frozen v2 shard (405) is the frozen outcome, with the fix in the message; nothing is logged', async () => {
    const v2 = clientFor({ apiVersion: 2 });
    const before = (await client.logInfo()).treeSize;
    server.faults.set({ mode: 'frozen', count: 1 });
    const outcome = await v2.submit(freshEnvelope());
    expect(outcome).toMatchObject({ kind: 'frozen', status: 405 });
    if (outcome.kind === 'frozen') expect(outcome.message).toContain('serverUrl');
    expect((await client.logInfo()).treeSize).toBe(before);
  });

  test("a failing timestamp authority sends nothing to the log: timestamp_failed, never read as the log's answer", async () => {
    // a TSA that answers every request with the status it is given
    let status = 503;
    const tsa = createServer((req, res) => {
      req.resume();
      res.writeHead(status, { 'content-type': 'text/plain', 'retry-after': '30' });
      res.end(`tsa says ${status}`);
    });
    await new Promise<void>((resolve) => tsa.listen(0, '127.0.0.1', resolve));
    const tsaUrl = `http://127.0.0.1:${(tsa.address() as AddressInfo).port}/api/v1/timestamp`;
    try {
      const v2 = clientFor({ ...v2Options(), timestampAuthorityUrl: tsaUrl });
      const before = (await client.logInfo()).treeSize;
      // a 429 does not pause the log, a 4xx does not reject the entry, a 405 is no frozen shard
      for (status of [503, 429, 400, 405]) {
        const outcome = await v2.submit(freshEnvelope());
        expect(outcome).toMatchObject({ kind: 'timestamp_failed', tsaUrl, status, logUrl: server.url });
        if (outcome.kind === 'timestamp_failed') expect(outcome.message).toContain(tsaUrl);
      }
      tsa.closeAllConnections();
      await new Promise<void>((resolve) => tsa.close(() => resolve()));
      // nobody listens there now: connection refused (a client without a pooled connection to it)
      const refused = await clientFor({ ...v2Options(), timestampAuthorityUrl: tsaUrl }).submit(
        freshEnvelope(),
      );
      expect(refused).toMatchObject({ kind: 'timestamp_failed', tsaUrl, code: 'ECONNREFUSED' });
      expect((await client.logInfo()).treeSize).toBe(before);
    } finally {
      tsa.close();
    }
  });

  test('Ed25519 keys work over v2 too', async () => {
    const ed = createSigner(key('ed25519'));
    const outcome = await clientFor(v2Options()).submit(freshEnvelope(ed));
    expect(outcome.kind).toBe('created');
    expect(verifies(outcome, ed).verified).toBe(true);
  });

  test('v2 outcomes: 429 with Retry-After, 503, a tampered signature rejected, a malformed 201', async () => {
    const v2 = clientFor({ apiVersion: 2 });
    server.faults.set({ mode: '429', count: 1, retryAfterSeconds: 3 });
    expect(await v2.submit(freshEnvelope())).toMatchObject({ kind: 'rate_limited', retryAfterMs: 3_000 });
    server.faults.set({ mode: '503', count: 1 });
    expect(await v2.submit(freshEnvelope())).toMatchObject({ kind: 'retryable', status: 503 });
    const signed = freshEnvelope();
    const other = signEnvelope(buildStatement(graphSubmission('v2-other')), signer);
    const tampered: SignedEnvelope = {
      ...signed,
      envelope: { ...signed.envelope, signatures: other.envelope.signatures },
    };
    expect(await v2.submit(tampered)).toMatchObject({ kind: 'rejected', status: 400 });
    server.faults.set({ mode: 'malformed', count: 1 });
    expect(await v2.submit(freshEnvelope())).toMatchObject({ kind: 'invalid_response', status: 201 });
  });
});

describe('offline verification of stored bundles', () => {
  test('a bundle survives a JSON round trip (as stored in receipts) and verifies', async () => {
    const outcome = await client.submit(freshEnvelope());
    if (outcome.kind !== 'created') throw new Error(outcome.kind);
    const stored = JSON.parse(JSON.stringify(outcome.bundle));
    expect(
      verifyBundle({ bundle: stored, trustedRoot: server.trustedRoot(), publicKeyPem: signer.publicKeyPem }),
    ).toMatchObject({ verified: true });
  });

  test.each([
    [
      'a tampered payload',
      (b: any) => {
        const p = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString());
        p.predicate.graphDigest = `sha256:${'0'.repeat(64)}`;
        b.dsseEnvelope.payload = Buffer.from(JSON.stringify(p)).toString('base64');
      },
      'TLOG_BODY_ERROR',
    ],
    [
      'a tampered log index',
      (b: any) => {
        b.verificationMaterial.tlogEntries[0].logIndex = String(
          Number(b.verificationMaterial.tlogEntries[0].logIndex) + 1,
        );
      },
      'TLOG_INCLUSION_PROMISE_ERROR',
    ],
  ])('%s fails with the verifier’s code', async (_what, tamper, code) => {
    const outcome = await client.submit(freshEnvelope());
    if (outcome.kind !== 'created') throw new Error(outcome.kind);
    const bundle = JSON.parse(JSON.stringify(outcome.bundle));
    tamper(bundle);
    expect(
      verifyBundle({ bundle, trustedRoot: server.trustedRoot(), publicKeyPem: signer.publicKeyPem }),
    ).toMatchObject({ verified: false, code });
  });

  test('a bundle whose timestamp is not one is INVALID_BUNDLE', async () => {
    const outcome = await client.submit(freshEnvelope());
    if (outcome.kind !== 'created') throw new Error(outcome.kind);
    const bundle = JSON.parse(JSON.stringify(outcome.bundle));
    bundle.verificationMaterial.timestampVerificationData = {
      rfc3161Timestamps: [{ signedTimestamp: 'AAAA' }],
    };
    expect(
      await codeOf(() =>
        verifyBundle({ bundle, trustedRoot: server.trustedRoot(), publicKeyPem: signer.publicKeyPem }),
      ),
    ).toBe('INVALID_BUNDLE');
  });

  test('another key does not verify (SIGNATURE_ERROR)', async () => {
    const outcome = await client.submit(freshEnvelope());
    const other = createSigner(key('ec'));
    expect(verifies(outcome, other)).toMatchObject({ verified: false, code: 'SIGNATURE_ERROR' });
  });
});

describe('lookup: finding an envelope in the log without sending it', () => {
  test('finds a logged envelope (dsse and intoto), with a bundle that verifies, and sends nothing', async () => {
    for (const entryKind of ['dsse', 'intoto'] as const) {
      const c = clientFor({ entryKind });
      const signed = freshEnvelope();
      expect(await c.lookup(signed)).toBeUndefined();
      const created = await c.submit(signed);
      if (created.kind !== 'created') throw new Error(`got ${created.kind}`);
      const size = server.treeSize();
      const found = await c.lookup(signed);
      expect(found).toMatchObject({ kind: 'duplicate', entry: { uuid: created.entry.uuid } });
      expect(verifies(found!)).toBeDefined();
      expect(server.treeSize()).toBe(size);
    }
  });

  test('another signature of the same statement is not this envelope', async () => {
    const statement = buildStatement(graphSubmission('same-statement'));
    const first = signEnvelope(statement, signer);
    const second = signEnvelope(statement, signer);
    expect(second.envelope.signatures[0]!.sig).not.toBe(first.envelope.signatures[0]!.sig);
    expect((await client.submit(first)).kind).toBe('created');
    expect(await client.lookup(second)).toBeUndefined();
    expect(await client.lookup(first)).toMatchObject({ kind: 'duplicate' });
  });

  test('a log that does not answer the look-up: undefined, and onError hears why', async () => {
    const signed = freshEnvelope();
    expect((await client.submit(signed)).kind).toBe('created');
    server.faults.set({ mode: '503' });
    const errors: unknown[] = [];
    expect(await client.lookup(signed, (e) => errors.push(e))).toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  test('a v2 client has no search: undefined without a request', async () => {
    const v2 = clientFor({ apiVersion: 2 });
    const signed = freshEnvelope();
    expect((await v2.submit(signed)).kind).toBe('created');
    server.faults.set({ mode: 'offline' });
    const errors: unknown[] = [];
    expect(await v2.lookup(signed, (e) => errors.push(e))).toBeUndefined();
    expect(errors).toEqual([]);
  });
});

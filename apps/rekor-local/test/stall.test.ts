// the module object itself (a namespace import would be a copy the spies could not see through)
import crypto from 'node:crypto';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { http } from '@rekor-budget/testing';
import { measureDuring, startChildServer, type ChildServer } from './helpers/child';
import {
  costliestDsseEntry,
  hashedRekordEntry,
  multiSignedDsseEntry,
  newKey,
  reportedStallEntry,
} from './helpers/proposed';
import { removeDir, tempDataDir } from './helpers/server';

/**
 * Issue 14, finding 5: one request must not stall rekor-local. While a
 * hostile POST runs, concurrent `GET /api/v1/log`s keep being answered (the
 * log and the client each in a process of their own, as deployed); a
 * repeated entry is a duplicate found before any signature is verified;
 * entries beyond the caps are refused before any verification.
 *
 * The target is under 100 ms per GET, and `npm run bench:stall -w
 * @rekor-budget/rekor-local` measures and prints it (about 30 ms at most on
 * the shared 2-core development machine). On that machine a test run sees
 * scheduling pauses of 100-150 ms now and then, so the test asserts a
 * generous bound that still tells a stall (the reported entry held the log
 * for 10 s) from none.
 */
const LATENCY_BOUND_MS = 1_000;

/** POSTs `bodies` at once and times GETs of /api/v1/log meanwhile, from a client process of its own. */
async function latenciesDuring(url: string, bodies: unknown[]) {
  const file = join(bodiesDir, `bodies-${randomUUID()}.json`);
  writeFileSync(file, JSON.stringify(bodies));
  const measured = await measureDuring(url, file);
  expect(measured.gets.every((s) => s === 200)).toBe(true);
  return measured;
}

const bodiesDir = tempDataDir();
afterAll(() => removeDir(bodiesDir));

describe('a concurrent GET /api/v1/log while a hostile POST runs', () => {
  const dataDir = tempDataDir();
  let child: ChildServer;
  beforeAll(async () => {
    child = await startChildServer(dataDir);
  });
  afterAll(async () => {
    await child.close();
    removeDir(dataDir);
  });

  test('the reported entry (260 verifiers, 500 signatures, ~119 KB) is refused at once', async () => {
    const entry = reportedStallEntry();
    expect(JSON.stringify(entry).length).toBeGreaterThan(110_000);
    const { statuses, latencies } = await latenciesDuring(child.url, [entry]);
    expect(statuses).toEqual([400]);
    expect(Math.max(...latencies)).toBeLessThan(LATENCY_BOUND_MS);
  });

  test('the costliest entry within the caps (8 signatures, 8 P-521 keys, worst order) is verified off the event loop', async () => {
    const { statuses, latencies } = await latenciesDuring(child.url, [costliestDsseEntry('a')]);
    expect(statuses).toEqual([201]);
    expect(Math.max(...latencies)).toBeLessThan(LATENCY_BOUND_MS);
  });

  test('a hashedrekord entry (its P-256 check in JavaScript, about 2 ms)', async () => {
    const { statuses, latencies } = await latenciesDuring(child.url, [
      hashedRekordEntry(newKey(), Buffer.from('artifact')),
    ]);
    expect(statuses).toEqual([201]);
    expect(Math.max(...latencies)).toBeLessThan(LATENCY_BOUND_MS);
  });
});

describe('caps and the duplicate check, before any signature is verified', () => {
  const dataDir = tempDataDir();
  let server: RekorLocalServer;
  beforeAll(async () => {
    server = await startRekorLocal({ port: 0, dataDir, fsync: false });
  });
  afterAll(async () => {
    await server.close();
    removeDir(dataDir);
  });

  const post = (body: unknown) =>
    http(`${server.url}/api/v1/log/entries`, { method: 'POST', body: JSON.stringify(body) });

  test('a repeated entry is answered 409 without verifying a signature', async () => {
    const entry = costliestDsseEntry('repeat');
    const verify = jest.spyOn(crypto, 'verify');
    try {
      expect((await post(entry)).status).toBe(201);
      expect(verify).toHaveBeenCalled();
      verify.mockClear();
      const again = await post(entry);
      expect(again.status).toBe(409);
      expect(verify).not.toHaveBeenCalled();
    } finally {
      verify.mockRestore();
    }
  });

  const ed = () => generateKeyPairSync('ed25519');
  const withVerifiers = (e: ReturnType<typeof multiSignedDsseEntry>, verifiers: string[]) => ({
    ...e,
    spec: { proposedContent: { ...e.spec.proposedContent, verifiers } },
  });
  test.each([
    ['the reported entry', () => reportedStallEntry()],
    ['9 signatures', () => multiSignedDsseEntry([ed()], Buffer.from('{}'), { perKey: 9 })],
    [
      '9 verifiers',
      () =>
        multiSignedDsseEntry([ed()], Buffer.from('{}'), {
          unused: Array.from({ length: 8 }, () => ed().publicKey),
        }),
    ],
    [
      'the same verifier twice',
      () => {
        const e = multiSignedDsseEntry([ed()], Buffer.from('{}'));
        const [v] = e.spec.proposedContent.verifiers;
        return withVerifiers(e, [v!, v!]);
      },
    ],
    [
      'the same signature twice',
      () => {
        const e = multiSignedDsseEntry([ed()], Buffer.from('{}'));
        const env = JSON.parse(e.spec.proposedContent.envelope) as { signatures: unknown[] };
        env.signatures.push(env.signatures[0]);
        return {
          ...e,
          spec: { proposedContent: { ...e.spec.proposedContent, envelope: JSON.stringify(env) } },
        };
      },
    ],
  ])('a dsse entry with %s is refused (400) before any verification', async (_what, make) => {
    const entry = make();
    const verify = jest.spyOn(crypto, 'verify');
    try {
      expect((await post(entry)).status).toBe(400);
      expect(verify).not.toHaveBeenCalled();
    } finally {
      verify.mockRestore();
    }
  });

  test('an RSA key outside 2048..4096 bits is refused (400)', async () => {
    // (a key beyond 4096 bits is refused the same way, but takes seconds to generate)
    const k = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const e = multiSignedDsseEntry([ed()], Buffer.from('{}'));
    const env = JSON.parse(e.spec.proposedContent.envelope) as { signatures: { sig: string }[] };
    const message = Buffer.concat([
      Buffer.from(`DSSEv1 28 application/vnd.in-toto+json 2 `),
      Buffer.from('{}'),
    ]);
    env.signatures = [{ sig: sign('sha256', message, k.privateKey).toString('base64') }];
    const verifier = Buffer.from(k.publicKey.export({ type: 'spki', format: 'pem' }).toString()).toString(
      'base64',
    );
    const r = await post({
      ...e,
      spec: { proposedContent: { envelope: JSON.stringify(env), verifiers: [verifier] } },
    });
    expect(r.status).toBe(400);
  });
});

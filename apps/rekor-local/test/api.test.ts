import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { DATA_FILES, startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { dsseEntry, hashedRekordEntry, intotoEntry, newKey } from './helpers/proposed';
import { hashLeaf, verifyInclusion } from './helpers/rfc6962';
import { call, post, removeDir, tempDataDir } from './helpers/server';

const dataDir = tempDataDir();
let server: RekorLocalServer;
const key = newKey();

beforeAll(async () => {
  server = await startRekorLocal({ port: 0, dataDir });
});
afterAll(async () => {
  await server.close();
  removeDir(dataDir);
});

const only = (map: Record<string, any>) => {
  const [uuid, entry] = Object.entries(map)[0]!;
  return { uuid, entry };
};

function checkInclusion(entry: any): void {
  const p = entry.verification.inclusionProof;
  const ok = verifyInclusion(
    p.logIndex,
    p.treeSize,
    hashLeaf(Buffer.from(entry.body, 'base64')),
    p.hashes.map((h: string) => Buffer.from(h, 'hex')),
    Buffer.from(p.rootHash, 'hex'),
  );
  expect(ok).toBe(true);
}

describe('Rekor v1 API', () => {
  test('201 with Location and ETag; the body is the canonical dsse body with verifier', async () => {
    const res = await post(`${server.url}/api/v1/log/entries`, dsseEntry(key, Buffer.from('{"a":1}')));
    expect(res.status).toBe(201);
    const { uuid, entry } = only(res.body);
    expect(uuid).toMatch(/^[0-9a-f]{80}$/);
    expect(res.headers.get('location')).toBe(`/api/v1/log/entries/${uuid}`);
    expect(res.headers.get('etag')).toBe(uuid);
    expect(entry.logID).toBe(server.logId);
    const body = JSON.parse(Buffer.from(entry.body, 'base64').toString());
    expect(body).toEqual({
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        envelopeHash: { algorithm: 'sha256', value: expect.stringMatching(/^[0-9a-f]{64}$/) },
        payloadHash: { algorithm: 'sha256', value: expect.stringMatching(/^[0-9a-f]{64}$/) },
        signatures: [{ signature: expect.any(String), verifier: key.publicB64 }],
      },
    });
    // the SET is the log's signature over the canonical {body, integratedTime, logID, logIndex}
    const set = JSON.stringify({
      body: entry.body,
      integratedTime: entry.integratedTime,
      logID: entry.logID,
      logIndex: entry.logIndex,
    });
    const logKey = createPublicKey((await call(`${server.url}/api/v1/log/publicKey`)).body);
    expect(
      verify(
        'sha256',
        Buffer.from(set),
        logKey,
        Buffer.from(entry.verification.signedEntryTimestamp, 'base64'),
      ),
    ).toBe(true);
  });

  test('409 with the Location of the existing entry', async () => {
    const e = intotoEntry(key, Buffer.from('{"b":2}'));
    const first = await post(`${server.url}/api/v1/log/entries`, e);
    const again = await post(`${server.url}/api/v1/log/entries`, e);
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ code: 409, message: expect.any(String) });
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
  });

  test('hashedrekord with ECDSA P-256 and RSA keys', async () => {
    for (const k of [newKey('ec'), newKey('rsa')]) {
      const res = await post(
        `${server.url}/api/v1/log/entries`,
        hashedRekordEntry(k, Buffer.from('artifact')),
      );
      expect(res.status).toBe(201);
    }
    const ed = await post(
      `${server.url}/api/v1/log/entries`,
      hashedRekordEntry(newKey('ed25519'), Buffer.from('x')),
    );
    expect(ed.status).toBe(400);
  });

  test('concurrent POSTs get distinct indexes and every proof checks out', async () => {
    const before = server.treeSize();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        post(`${server.url}/api/v1/log/entries`, dsseEntry(key, Buffer.from(`{"n":${i}}`))),
      ),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const entries = results.map((r) => only(r.body).entry);
    const indexes = entries.map((e) => e.logIndex).sort((a, b) => a - b);
    expect(indexes).toEqual(Array.from({ length: 200 }, (_, i) => before + i));
    for (const e of entries) checkInclusion(e);
  });

  test('GET by uuid (80 and 64 hex), by logIndex, and retrieve agree', async () => {
    const byIndex = only((await call(`${server.url}/api/v1/log/entries?logIndex=2`)).body);
    const byUuid = only((await call(`${server.url}/api/v1/log/entries/${byIndex.uuid}`)).body);
    const byShort = only((await call(`${server.url}/api/v1/log/entries/${byIndex.uuid.slice(16)}`)).body);
    expect(byUuid.entry.body).toBe(byIndex.entry.body);
    expect(byShort.uuid).toBe(byIndex.uuid);
    checkInclusion(byUuid.entry);
    const got = await post(`${server.url}/api/v1/log/entries/retrieve`, {
      entryUUIDs: [byIndex.uuid, 'f'.repeat(64)],
      logIndexes: [0, 1, 99999],
    });
    expect(got.status).toBe(200);
    expect(got.body.map((m: any) => only(m).entry.logIndex)).toEqual([2, 0, 1]);
  });

  test('index/retrieve finds entries by payload, envelope and artifact hash, and only those', async () => {
    const payload = Buffer.from('{"searched":true}');
    const dsse = await post(`${server.url}/api/v1/log/entries`, dsseEntry(key, payload));
    expect(dsse.status).toBe(201);
    const { uuid, entry } = only(dsse.body);
    const body = JSON.parse(Buffer.from(entry.body, 'base64').toString('utf8'));
    const payloadHash = createHash('sha256').update(payload).digest('hex');
    const search = (hash: unknown, more: Record<string, unknown> = {}) =>
      post(`${server.url}/api/v1/index/retrieve`, { hash, ...more });
    expect(await search(`sha256:${payloadHash}`)).toMatchObject({ status: 200, body: [uuid] });
    // bare hex and upper case are the same hash
    expect((await search(payloadHash.toUpperCase())).body).toEqual([uuid]);
    expect((await search(`sha256:${body.spec.envelopeHash.value}`)).body).toEqual([uuid]);
    expect((await search(`sha256:${'0'.repeat(64)}`)).body).toEqual([]);

    const artifact = Buffer.from('an artifact to search');
    const rekord = await post(`${server.url}/api/v1/log/entries`, hashedRekordEntry(key, artifact));
    const artifactHash = createHash('sha256').update(artifact).digest('hex');
    expect((await search(`sha256:${artifactHash}`)).body).toEqual([only(rekord.body).uuid]);

    expect(await search('md5:abc')).toMatchObject({ status: 400 });
    expect(await search(undefined)).toMatchObject({ status: 400 });
    const byKey = await search(`sha256:${payloadHash}`, { publicKey: { format: 'x509', content: 'x' } });
    expect(byKey.status).toBe(400);
    expect(JSON.stringify(byKey.body)).toContain('searches by hash only');
  });

  test('log info carries a signed checkpoint for its tree size', async () => {
    const info = (await call(`${server.url}/api/v1/log`)).body;
    expect(info.treeSize).toBe(server.treeSize());
    const [note, sigLine] = info.signedTreeHead.split('\n\n');
    const [origin, size, root] = note.split('\n');
    expect(origin).toBe(`127.0.0.1 - ${info.treeID}`);
    expect(Number(size)).toBe(info.treeSize);
    expect(Buffer.from(root, 'base64').toString('hex')).toBe(info.rootHash);
    const [dash, name, b64] = sigLine.trim().split(' ');
    expect(dash).toBe('\u2014');
    expect(name).toBe('127.0.0.1');
    const sig = Buffer.from(b64, 'base64');
    expect(sig.subarray(0, 4).toString('hex')).toBe(server.logId.slice(0, 8));
    const logKey = createPublicKey(server.publicKeyPem);
    expect(verify('sha256', Buffer.from(`${note}\n`), logKey, sig.subarray(4))).toBe(true);
  });

  test('trusted_root.json names this log', async () => {
    const root = (await call(`${server.url}/trusted_root.json`)).body;
    expect(root.mediaType).toBe('application/vnd.dev.sigstore.trustedroot+json;version=0.1');
    const tlog = root.tlogs[0];
    expect(tlog.baseUrl).toBe(server.url);
    expect(tlog.hashAlgorithm).toBe('SHA2_256');
    expect(tlog.publicKey.keyDetails).toBe('PKIX_ECDSA_P256_SHA_256');
    expect(Buffer.from(tlog.logId.keyId, 'base64').toString('hex')).toBe(server.logId);
    expect(Date.parse(tlog.publicKey.validFor.start)).toBeLessThanOrEqual(Date.now());
  });

  test('a torn last line is dropped on restart; everything before survives', async () => {
    const size = server.treeSize();
    const info = (await call(`${server.url}/api/v1/log`)).body;
    await server.close();
    appendFileSync(join(dataDir, DATA_FILES.entries), '{"i":');
    server = await startRekorLocal({ port: 0, dataDir });
    const after = (await call(`${server.url}/api/v1/log`)).body;
    expect(after.treeSize).toBe(size);
    expect(after.rootHash).toBe(info.rootHash);
    expect(
      (await post(`${server.url}/api/v1/log/entries`, dsseEntry(key, Buffer.from('{"after":1}')))).status,
    ).toBe(201);
    const lines = readFileSync(join(dataDir, DATA_FILES.entries), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(size + 1);
  });
});

describe('data directory', () => {
  test('a second log on a data directory in use is refused', async () => {
    await expect(startRekorLocal({ port: 0, dataDir })).rejects.toMatchObject({ code: 'DATA_DIR_INVALID' });
    expect((await call(`${server.url}/api/v1/log`)).status).toBe(200);
  });

  test('a damaged entry file refuses to start', async () => {
    const dir = tempDataDir();
    const first = await startRekorLocal({ port: 0, dataDir: dir });
    await post(`${first.url}/api/v1/log/entries`, dsseEntry(key, Buffer.from('{"d":1}')));
    await first.close();
    appendFileSync(join(dir, DATA_FILES.entries), 'garbage\n');
    await expect(startRekorLocal({ port: 0, dataDir: dir })).rejects.toMatchObject({
      code: 'DATA_DIR_INVALID',
    });
    removeDir(dir);
  });
});

describe('a port or host it cannot listen on', () => {
  test('is a LISTEN_FAILED error that names the flag to change: a port in use, a host that does not resolve, the admin port', async () => {
    const other = tempDataDir();
    try {
      const taken = new URL(server.url).port;
      const inUse = await startRekorLocal({ port: Number(taken), dataDir: other }).catch((e: unknown) => e);
      expect(inUse).toMatchObject({ code: 'LISTEN_FAILED' });
      expect((inUse as Error).message).toContain(`127.0.0.1:${taken} is in use by another process`);
      expect((inUse as Error).message).toContain('--port');

      const nowhere = await startRekorLocal({ port: 0, host: 'bogus.invalid', dataDir: other }).catch(
        (e: unknown) => e,
      );
      expect(nowhere).toMatchObject({ code: 'LISTEN_FAILED' });
      expect((nowhere as Error).message).toContain('"bogus.invalid" does not resolve');

      const admin = await startRekorLocal({
        port: 0,
        dataDir: other,
        faults: true,
        adminPort: Number(taken),
      }).catch((e: unknown) => e);
      expect(admin).toMatchObject({ code: 'LISTEN_FAILED' });
      expect((admin as Error).message).toContain('--admin-port');
    } finally {
      removeDir(other);
    }
  });
});

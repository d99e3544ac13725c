import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { DSSEBundleBuilder, RekorWitness, TSAWitness } from '@sigstore/sign';
import { startRekorLocal, tileIndexPath, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { call, post, removeDir, tempDataDir } from './helpers/server';
import { KeySigner } from './helpers/signer';
import { verifyBundle } from './helpers/verify';

const dataDir = tempDataDir();
const signer = new KeySigner();
let server: RekorLocalServer;

beforeAll(async () => {
  server = await startRekorLocal({ port: 0, dataDir, api: 'v2', faults: true });
});
afterAll(async () => {
  await server.close();
  removeDir(dataDir);
});

const bytes = async (path: string) => {
  const res = await fetch(`${server.url}${path}`);
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: Buffer.from(await res.arrayBuffer()),
  };
};

/** Checks a C2SP signed note with the log key of the trusted root; returns its size and root hash. */
function openNote(note: string, root: any): { origin: string; size: number; hash: Buffer } {
  const [text, sigs] = [note.slice(0, note.indexOf('\n\n') + 1), note.slice(note.indexOf('\n\n') + 2)];
  const [origin, size, hash] = text.trimEnd().split('\n');
  const m = /^\u2014 (\S+) (\S+)\n$/.exec(sigs)!;
  expect(m[1]).toBe(origin);
  const sig = Buffer.from(m[2]!, 'base64');
  const tlog = root.tlogs[0];
  const spki = Buffer.from(tlog.publicKey.rawBytes, 'base64');
  // ECDSA key ID per C2SP signed-note as rekor-tiles computes it: SHA-256(SPKI)[:4]
  expect(sig.subarray(0, 4)).toEqual(createHash('sha256').update(spki).digest().subarray(0, 4));
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  expect(verify('sha256', Buffer.from(text), key, sig.subarray(4))).toBe(true);
  return { origin: origin!, size: Number(size), hash: Buffer.from(hash!, 'base64') };
}

/** MTH over leaf hashes (RFC 6962). */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(mth(leaves.slice(0, k)))
    .update(mth(leaves.slice(k)))
    .digest();
}

describe('rekor-local --api v2 (as rekor-tiles serves it)', () => {
  test('Rekor v1 paths answer 404; the checkpoint is a C2SP signed note verified by the served trusted root', async () => {
    expect((await call(`${server.url}/api/v1/log`)).status).toBe(404);
    expect((await post(`${server.url}/api/v1/log/entries`, {})).status).toBe(404);
    const root = (await call(`${server.url}/trusted_root.json`)).body;
    const cp = await bytes('/checkpoint');
    expect(cp.status).toBe(200);
    expect(cp.type).toBe('text/plain; charset=utf-8');
    const note = openNote(cp.body.toString(), root);
    expect(note.origin).toBe('127.0.0.1');
  });

  test('entries written with @sigstore/sign (TSA and Rekor v2 witnesses) verify with a timestamp required; tiles rebuild the checkpoint', async () => {
    const builder = new DSSEBundleBuilder({
      signer,
      witnesses: [
        new TSAWitness({ tsaBaseURL: server.url, retry: 0 }),
        new RekorWitness({ rekorBaseURL: server.url, majorApiVersion: 2, retry: 0 }),
      ],
    });
    const root = (await call(`${server.url}/trusted_root.json`)).body;
    expect(root.timestampAuthorities).toHaveLength(1);
    const before = server.treeSize();
    const bundles = await Promise.all(
      Array.from({ length: 260 }, (_, n) =>
        builder.create({ data: Buffer.from(JSON.stringify({ n })), type: 'application/vnd.in-toto+json' }),
      ),
    );
    for (const b of bundles) {
      expect(b.verificationMaterial.timestampVerificationData?.rfc3161Timestamps).toHaveLength(1);
      verifyBundle(b, root, signer, { timestampThreshold: 1 });
    }
    const size = server.treeSize();
    expect(size).toBe(before + 260);
    const note = openNote((await bytes('/checkpoint')).body.toString(), root);
    expect(note.size).toBe(size);

    // level 0: one full tile and a partial one of the rest
    const full = await bytes(`/tile/0/${tileIndexPath(0)}`);
    expect(full.type).toBe('application/octet-stream');
    expect(full.body.length).toBe(256 * 32);
    const rest = size - 256;
    const partial = await bytes(`/tile/0/${tileIndexPath(1)}.p/${rest}`);
    expect(partial.body.length).toBe(rest * 32);
    const leaves = [];
    for (const t of [full.body, partial.body])
      for (let i = 0; i < t.length; i += 32) leaves.push(t.subarray(i, i + 32));
    expect(mth(leaves)).toEqual(note.hash);
    // level 1 holds the root of the first 256 leaves
    const upper = await bytes('/tile/1/000.p/1');
    expect(upper.body).toEqual(mth(leaves.slice(0, 256)));

    // entry bundles: uint16 length + canonical body, whose leaf hash is in the tile
    const entries = await bytes(`/tile/entries/001.p/${rest}`);
    const first = entries.body.subarray(2, 2 + entries.body.readUInt16BE(0));
    expect(JSON.parse(first.toString())).toMatchObject({ kind: 'dsse', apiVersion: '0.0.2' });
    const leaf = createHash('sha256')
      .update(Buffer.from([0]))
      .update(first)
      .digest();
    expect(leaf).toEqual(leaves[256]);
  });

  test('tiles not yet complete are 404, malformed tile paths 400', async () => {
    expect((await bytes('/tile/0/x999/999')).status).toBe(404);
    expect((await bytes(`/tile/0/001.p/255`)).status).toBe(404);
    expect((await bytes('/tile/0/1')).status).toBe(400);
    expect((await bytes('/tile/0/000.p/0')).status).toBe(400);
    expect((await bytes('/tile/0/000.p/256')).status).toBe(400);
    expect((await bytes('/tile/99/000')).status).toBe(400);
  });

  test('hashedrekord and dsse v0.0.2: 201, a duplicate is 409 naming its index, bad input 400, a frozen shard 405', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const artifact = Buffer.from('an artifact');
    const digest = createHash('sha256').update(artifact).digest();
    const request = (content: Buffer) => ({
      hashedRekordRequestV002: {
        digest: digest.toString('base64'),
        signature: {
          content: content.toString('base64'),
          verifier: { publicKey: { rawBytes: spki }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
        },
      },
    });
    const good = request(sign('sha256', artifact, privateKey));
    const created = await post(`${server.url}/api/v2/log/entries`, good);
    expect(created.status).toBe(201);
    expect(created.body.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' });
    const body = JSON.parse(Buffer.from(created.body.canonicalizedBody, 'base64').toString());
    expect(body.spec.hashedRekordV002.data).toEqual({
      algorithm: 'SHA2_256',
      digest: digest.toString('base64'),
    });

    const again = await post(`${server.url}/api/v2/log/entries`, good);
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      code: 6,
      message: `an equivalent entry already exists in the transparency log with index ${created.body.logIndex}`,
      details: [],
    });
    const bad = await post(
      `${server.url}/api/v2/log/entries`,
      request(sign('sha256', Buffer.from('other'), privateKey)),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe(3);
    expect((await post(`${server.url}/api/v2/log/entries`, { rekordRequest: {} })).status).toBe(400);
    expect((await post(`${server.url}/api/v2/log/entries`, 'not json')).status).toBe(400);

    server.faults.set({ mode: 'frozen' });
    try {
      const frozen = await post(`${server.url}/api/v2/log/entries`, good);
      expect(frozen.status).toBe(405);
      expect(frozen.body.code).toBe(12);
      // reads go on
      expect((await bytes('/checkpoint')).status).toBe(200);
    } finally {
      server.faults.clear();
    }
  });

  test('the TSA answers DER and JSON requests and refuses what it cannot timestamp', async () => {
    const ts = await fetch(`${server.url}/api/v1/timestamp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ artifactHash: 'AAAA', hashAlgorithm: 'sha256' }),
    });
    expect(ts.status).toBe(400);
    const wrong = await fetch(`${server.url}/api/v1/timestamp`, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: Buffer.from('not DER'),
    });
    expect(wrong.status).toBe(400);
    const chain = await fetch(`${server.url}/api/v1/timestamp/certchain`);
    expect((await chain.text()).match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });
});

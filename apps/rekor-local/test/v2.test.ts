import { DSSEBundleBuilder, RekorWitness } from '@sigstore/sign';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { newKey } from './helpers/proposed';
import { call, post, removeDir, tempDataDir } from './helpers/server';
import { KeySigner } from './helpers/signer';
import { verifyBundle } from './helpers/verify';

const dataDir = tempDataDir();
const signer = new KeySigner();
let server: RekorLocalServer;

beforeAll(async () => {
  server = await startRekorLocal({ port: 0, dataDir });
});
afterAll(async () => {
  await server.close();
  removeDir(dataDir);
});

describe('Rekor v2 POST /api/v2/log/entries (dsseRequestV002)', () => {
  test('@sigstore/sign with majorApiVersion 2 logs dsse 0.0.2 entries that verify offline', async () => {
    const builder = new DSSEBundleBuilder({
      signer,
      witnesses: [new RekorWitness({ rekorBaseURL: server.url, majorApiVersion: 2, retry: 0 })],
    });
    const root = (await call(`${server.url}/trusted_root.json`)).body;
    const bundles = await Promise.all(
      Array.from({ length: 12 }, (_, n) =>
        builder.create({ data: Buffer.from(JSON.stringify({ n })), type: 'application/vnd.in-toto+json' }),
      ),
    );
    for (const b of bundles) {
      const entry = b.verificationMaterial.tlogEntries[0]!;
      expect(entry.kindVersion).toEqual({ kind: 'dsse', version: '0.0.2' });
      expect(entry.inclusionPromise).toBeUndefined();
      // Rekor v2 gives no signed entry timestamp: the bundle carries no timestamp of its own
      verifyBundle(b, root, signer, { timestampThreshold: 0 });
    }
    expect(new Set(bundles.map((b) => b.verificationMaterial.tlogEntries[0]!.logIndex)).size).toBe(12);
  });

  test('a bad signature is 400; a duplicate is 409 naming the existing index, as rekor-tiles answers', async () => {
    const key = newKey();
    const other = newKey();
    const spki = (k: typeof key) =>
      Buffer.from(
        Buffer.from(k.publicB64, 'base64')
          .toString()
          .replace(/-----[^-]+-----|\s/g, ''),
        'base64',
      ).toString('base64');
    const { sign } = await import('node:crypto');
    const payload = Buffer.from('{"v":2}');
    const type = 'application/vnd.in-toto+json';
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
    const sig = sign('sha256', pae, key.privateKey).toString('base64');
    const request = (verifierKey: typeof key) => ({
      dsseRequestV002: {
        envelope: {
          payload: payload.toString('base64'),
          payloadType: type,
          signatures: [{ sig, keyid: '' }],
        },
        verifiers: [{ publicKey: { rawBytes: spki(verifierKey) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' }],
      },
    });
    expect((await post(`${server.url}/api/v2/log/entries`, request(other))).status).toBe(400);
    const first = await post(`${server.url}/api/v2/log/entries`, request(key));
    expect(first.status).toBe(201);
    const again = await post(`${server.url}/api/v2/log/entries`, request(key));
    expect(again.status).toBe(409);
    expect(again.body.message).toBe(
      `an equivalent entry already exists in the transparency log with index ${first.body.logIndex}`,
    );
    const hashed = await post(`${server.url}/api/v2/log/entries`, { hashedRekordRequestV002: {} });
    expect(hashed.status).toBe(400);
    expect((await post(`${server.url}/api/v2/log/entries`, { dsseRequestV002: 5 })).status).toBe(400);
  });
});

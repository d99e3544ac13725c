import { DSSEBundleBuilder, RekorWitness, type Bundle } from '@sigstore/sign';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { merkleTreeHash, verifyConsistency } from './helpers/rfc6962';
import { call, removeDir, tempDataDir } from './helpers/server';
import { KeySigner } from './helpers/signer';
import { verifyBundle } from './helpers/verify';

const dataDir = tempDataDir();
const signer = new KeySigner();
let server: RekorLocalServer | undefined;

afterAll(async () => {
  await server?.close();
  removeDir(dataDir);
});

function builder(url: string, entryType: 'dsse' | 'intoto', fetchOnConflict = false): DSSEBundleBuilder {
  return new DSSEBundleBuilder({
    signer,
    witnesses: [new RekorWitness({ rekorBaseURL: url, entryType, fetchOnConflict, retry: 0 })],
  });
}

function statement(n: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: `scan-${n}`, digest: { sha256: n.toString(16).padStart(64, '0') } }],
      predicateType: 'https://rekor-budget.dev/graph/v1',
      predicate: { n },
    }),
  );
}

async function submit(url: string, from: number, count: number): Promise<Bundle[]> {
  const out: Bundle[] = [];
  for (let start = from; start < from + count; start += 10) {
    const batch = Array.from({ length: Math.min(10, from + count - start) }, (_, i) => start + i);
    out.push(
      ...(await Promise.all(
        batch.map((n) =>
          builder(url, n % 2 ? 'intoto' : 'dsse').create({
            data: statement(n),
            type: 'application/vnd.in-toto+json',
          }),
        ),
      )),
    );
  }
  return out;
}

describe('rekor-local with @sigstore/sign and @sigstore/verify', () => {
  let bundles: Bundle[] = [];
  let oldSize = 0;
  let oldRoot = '';

  test('dsse and intoto entries submitted over HTTP verify offline, with the tree past 100 entries', async () => {
    server = await startRekorLocal({ port: 0, dataDir });
    bundles = await submit(server.url, 0, 110);
    const root = (await call(`${server.url}/trusted_root.json`)).body;
    const indexes = new Set(bundles.map((b) => b.verificationMaterial.tlogEntries[0]!.logIndex));
    expect(indexes.size).toBe(110);
    for (const b of bundles) {
      const entry = b.verificationMaterial.tlogEntries[0]!;
      expect(['dsse', 'intoto']).toContain(entry.kindVersion!.kind);
      const proof = entry.inclusionProof!;
      expect(Number(proof.treeSize)).toBeGreaterThan(Number(entry.logIndex));
      if (Number(proof.treeSize) > 1) expect(proof.hashes.length).toBeGreaterThan(0);
      verifyBundle(b, root, signer);
    }
    const kinds = bundles.map((b) => b.verificationMaterial.tlogEntries[0]!.kindVersion!.kind);
    expect(kinds.filter((k) => k === 'intoto')).toHaveLength(55);
    const info = (await call(`${server.url}/api/v1/log`)).body;
    expect(info.treeSize).toBe(110);
    oldSize = info.treeSize;
    oldRoot = info.rootHash;
  });

  test('a tampered bundle does not verify', async () => {
    const root = (await call(`${server!.url}/trusted_root.json`)).body;
    const b = structuredClone(bundles[3]!);
    const proof = b.verificationMaterial.tlogEntries[0]!.inclusionProof!;
    proof.hashes[0] = Buffer.alloc(32, 7);
    b.verificationMaterial.tlogEntries[0]!.inclusionPromise = undefined;
    expect(() => verifyBundle(b, root, signer)).toThrow();
  });

  test('the same envelope twice is one entry; fetchOnConflict returns the existing one', async () => {
    const sizeBefore = server!.treeSize();
    const fixed = new KeyedEnvelope();
    const first = await fixed.create(server!.url);
    const second = await fixed.create(server!.url);
    expect(server!.treeSize()).toBe(sizeBefore + 1);
    const a = first.verificationMaterial.tlogEntries[0]!;
    const b = second.verificationMaterial.tlogEntries[0]!;
    expect(b.logIndex).toBe(a.logIndex);
    expect(b.canonicalizedBody.equals(a.canonicalizedBody)).toBe(true);
    const root = (await call(`${server!.url}/trusted_root.json`)).body;
    verifyBundle(second, root, signer);
    await expect(fixed.create(server!.url, false)).rejects.toThrow(/409/);
  });

  test('after a restart on the same data dir old entries verify and the log is consistent', async () => {
    const oldLogId = server!.logId;
    await server!.close();
    server = await startRekorLocal({ port: 0, dataDir });
    expect(server.logId).toBe(oldLogId);
    const root = (await call(`${server.url}/trusted_root.json`)).body;
    for (const b of bundles) verifyBundle(b, root, signer);

    await submit(server.url, 1000, 25);
    const info = (await call(`${server.url}/api/v1/log`)).body;
    expect(info.treeSize).toBe(oldSize + 1 + 25);
    const proof = (
      await call(`${server.url}/api/v1/log/proof?firstSize=${oldSize}&lastSize=${info.treeSize}`)
    ).body;
    expect(proof.rootHash).toBe(info.rootHash);
    const hex = (h: string) => Buffer.from(h, 'hex');
    expect(
      verifyConsistency(oldSize, info.treeSize, hex(oldRoot), hex(info.rootHash), proof.hashes.map(hex)),
    ).toBe(true);
    expect(
      verifyConsistency(oldSize, info.treeSize, Buffer.alloc(32), hex(info.rootHash), proof.hashes.map(hex)),
    ).toBe(false);

    // the root agrees with the RFC's definition over every body in the log
    const bodies: Buffer[] = [];
    for (let i = 0; i < info.treeSize; i++) {
      const entry = (await call(`${server.url}/api/v1/log/entries?logIndex=${i}`)).body;
      bodies.push(Buffer.from((Object.values(entry)[0] as { body: string }).body, 'base64'));
    }
    expect(merkleTreeHash(bodies).toString('hex')).toBe(info.rootHash);
    expect(merkleTreeHash(bodies.slice(0, oldSize)).toString('hex')).toBe(oldRoot);
  });
});

/** Signs one envelope once and submits that same envelope on every call (as a retrying worker does). */
class KeyedEnvelope {
  private signature: Awaited<ReturnType<KeySigner['sign']>> | undefined;

  async create(url: string, fetchOnConflict = true): Promise<Bundle> {
    const once = {
      sign: async (data: Buffer) => (this.signature ??= await signer.sign(data)),
    };
    const b = new DSSEBundleBuilder({
      signer: once,
      witnesses: [new RekorWitness({ rekorBaseURL: url, entryType: 'dsse', fetchOnConflict, retry: 0 })],
    });
    return b.create({ data: statement(424242), type: 'application/vnd.in-toto+json' });
  }
}

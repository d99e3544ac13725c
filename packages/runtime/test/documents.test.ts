import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { loadTrustDocuments, RuntimeError } from '@rekor-budget/runtime';

const dir = mkdtempSync(join(tmpdir(), 'rb-documents-'));
let rekor: RekorLocalServer;

beforeAll(async () => {
  rekor = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), api: 'v2', fsync: false });
});
afterAll(async () => {
  await rekor.close();
  rmSync(dir, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RuntimeError);
    return (e as RuntimeError).code;
  }
  throw new Error('expected a RuntimeError');
}

describe('trustedRoot and signingConfig: a file or an http(s) URL, read once at start', () => {
  test('a trusted root by URL and a signing config by file are read and parsed', async () => {
    const file = join(dir, 'signing_config.json');
    writeFileSync(
      file,
      JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
        rekorTlogUrls: [{ url: rekor.url, majorApiVersion: 2, validFor: { start: '2025-01-01T00:00:00Z' } }],
        tsaUrls: [],
      }),
    );
    const docs = await loadTrustDocuments({
      trustedRoot: `${rekor.url}/trusted_root.json`,
      signingConfig: file,
    });
    expect(docs.trustedRoot).toEqual(rekor.trustedRoot());
    expect(docs.signingConfig?.rekorTlogUrls).toEqual([
      { url: rekor.url, majorApiVersion: 2, validFor: { start: new Date('2025-01-01T00:00:00Z') } },
    ]);
    expect(await loadTrustDocuments({})).toEqual({});
  });

  test('a missing file, an HTTP error, something not JSON or not a signing config is INVALID_DOCUMENT', async () => {
    expect(await codeOf(loadTrustDocuments({ trustedRoot: join(dir, 'missing.json') }))).toBe(
      'INVALID_DOCUMENT',
    );
    expect(await codeOf(loadTrustDocuments({ trustedRoot: `${rekor.url}/no-such-document` }))).toBe(
      'INVALID_DOCUMENT',
    );
    const text = join(dir, 'text.json');
    writeFileSync(text, 'not json');
    expect(await codeOf(loadTrustDocuments({ signingConfig: text }))).toBe('INVALID_DOCUMENT');
    const old = join(dir, 'v01.json');
    writeFileSync(old, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.1+json' }));
    expect(await codeOf(loadTrustDocuments({ signingConfig: old }))).toBe('INVALID_DOCUMENT');
  });
});

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import {
  buildStatement,
  createRekorClient,
  loadSigner,
  signEnvelope,
  type RekorClient,
} from '@rekor-budget/rekor';
import { contentDigest, type GraphAttestationInput } from '@rekor-budget/core';
import { runCli } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'rb-cli-keys-'));
const dataDir = mkdtempSync(join(tmpdir(), 'rb-cli-rekor-'));
let server: RekorLocalServer;
let client: RekorClient;

beforeAll(async () => {
  server = await startRekorLocal({ port: 0, dataDir });
  client = createRekorClient({ serverUrl: server.url, requestTimeoutMs: 5_000 });
});
afterAll(async () => {
  client.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('rekor-budget keygen', () => {
  test('writes the private key with mode 0600 and <file>.pub; refuses to overwrite (exit 2)', async () => {
    const out = join(dir, 'signing.pem');
    const r = await runCli(['keygen', '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${out}.pub`, 'utf8')).toMatch(/BEGIN PUBLIC KEY/);
    expect(JSON.parse(r.stdout)).toMatchObject({ privateKeyPath: out, publicKeyPath: `${out}.pub` });
    const again = await runCli(['keygen', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('[KEY_EXISTS]');
  });

  test('an unknown algorithm is a usage error', async () => {
    const r = await runCli(['keygen', '--out', join(dir, 'x.pem'), '--algorithm', 'rsa']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--algorithm "rsa" is not one of ecdsa-p256, ed25519 [INVALID_INPUT]');
  });
});

describe('rekor-budget verify', () => {
  let files: { bundle: string; root: string; pub: string; tampered: string };

  beforeAll(async () => {
    const key = join(dir, 'verify.pem');
    expect((await runCli(['keygen', '--out', key])).code).toBe(0);
    const signer = await loadSigner({ keyPath: key });
    const input: GraphAttestationInput = {
      tenantId: '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b',
      scanId: 'cli-verify',
      subject: { name: 'app', digest: `sha256:${'a'.repeat(64)}` },
      graphDigest: `sha256:${'b'.repeat(64)}`,
      scanner: { name: 'scanner', version: '1' },
      scanFinishedAt: '2025-12-20T10:00:00.000Z',
    };
    const statement = buildStatement({
      version: 1,
      tier: 'graph',
      contentDigest: contentDigest('graph', input),
      input,
    });
    const outcome = await client.submit(signEnvelope(statement, signer));
    if (outcome.kind !== 'created') throw new Error(`rekor-local answered ${outcome.kind}`);
    const tampered = JSON.parse(JSON.stringify(outcome.bundle));
    tampered.dsseEnvelope.payload = Buffer.from('{"tampered":true}').toString('base64');
    files = {
      bundle: join(dir, 'bundle.json'),
      root: join(dir, 'trusted_root.json'),
      pub: `${key}.pub`,
      tampered: join(dir, 'tampered.json'),
    };
    writeFileSync(files.bundle, JSON.stringify(outcome.bundle));
    writeFileSync(files.tampered, JSON.stringify(tampered));
    const root = await fetch(`${server.url}/trusted_root.json`);
    writeFileSync(files.root, await root.text());
  });

  test('a stored bundle verifies (exit 0)', async () => {
    const r = await runCli([
      'verify',
      '--bundle',
      files.bundle,
      '--trusted-root',
      files.root,
      '--key',
      files.pub,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^verified/);
  });

  test('a tampered bundle fails with the verifier’s error code (exit 1)', async () => {
    const r = await runCli([
      'verify',
      '--bundle',
      files.tampered,
      '--trusted-root',
      files.root,
      '--key',
      files.pub,
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ verified: false, code: 'TLOG_BODY_ERROR' });
  });

  test('a missing file is a usage error (exit 2)', async () => {
    const r = await runCli([
      'verify',
      '--bundle',
      join(dir, 'nope.json'),
      '--trusted-root',
      files.root,
      '--key',
      files.pub,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ENOENT');
  });

  test('a missing option is a usage error (exit 2)', async () => {
    expect((await runCli(['verify', '--bundle', files.bundle])).code).toBe(2);
  });
});

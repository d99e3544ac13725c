import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { createSigner, keyHintOf, loadSigner, writeKeyPair } from '@rekor-budget/rekor';
import { codeOf } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'rb-rekor-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeKeyPair (keygen)', () => {
  test('writes the private key 0600 and the SPKI public key next to it', async () => {
    const out = join(dir, 'ecdsa.pem');
    const r = await writeKeyPair(out);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const pub = readFileSync(`${out}.pub`, 'utf8');
    expect(pub).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(r.keyHint).toBe(keyHintOf(pub));
    const der = createPublicKey(pub).export({ type: 'spki', format: 'der' });
    expect(r.keyHint).toBe(createHash('sha256').update(der).digest('hex'));
  });

  test('never overwrites an existing key (KEY_EXISTS)', async () => {
    const out = join(dir, 'twice.pem');
    await writeKeyPair(out);
    const before = readFileSync(out, 'utf8');
    expect(await codeOf(() => writeKeyPair(out))).toBe('KEY_EXISTS');
    expect(readFileSync(out, 'utf8')).toBe(before);
  });
});

describe('loadSigner', () => {
  test.each(['ecdsa-p256', 'ed25519'] as const)(
    'loads a %s key whose signatures verify',
    async (algorithm) => {
      const out = join(dir, `${algorithm}-load.pem`);
      const r = await writeKeyPair(out, algorithm);
      const signer = await loadSigner({ keyPath: out });
      expect(signer.algorithm).toBe(algorithm);
      expect(signer.keyHint).toBe(r.keyHint);
      const data = Buffer.from('payload');
      const digest = algorithm === 'ed25519' ? null : 'sha256';
      expect(verify(digest, data, readFileSync(`${out}.pub`, 'utf8'), signer.sign(data))).toBe(true);
    },
  );

  test('an explicit key hint wins over the derived one', async () => {
    const out = join(dir, 'hinted.pem');
    await writeKeyPair(out);
    expect((await loadSigner({ keyPath: out, keyHint: 'scanner-prod-2025' })).keyHint).toBe(
      'scanner-prod-2025',
    );
  });

  test.each([0o644, 0o640, 0o604])('a key file with mode %o is refused (KEY_PERMISSIONS)', async (mode) => {
    const out = join(dir, `open-${mode.toString(8)}.pem`);
    await writeKeyPair(out);
    chmodSync(out, mode);
    expect(await codeOf(() => loadSigner({ keyPath: out }))).toBe('KEY_PERMISSIONS');
  });

  test('a missing key file is KEY_UNREADABLE', async () => {
    expect(await codeOf(() => loadSigner({ keyPath: join(dir, 'nope.pem') }))).toBe('KEY_UNREADABLE');
  });

  test('a key that is not ECDSA P-256 or Ed25519 is KEY_UNSUPPORTED', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(await codeOf(() => createSigner(rsa.toString()))).toBe('KEY_UNSUPPORTED');
    expect(await codeOf(() => createSigner(p384.toString()))).toBe('KEY_UNSUPPORTED');
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a key', { mode: 0o600 });
    expect(await codeOf(() => loadSigner({ keyPath: garbage }))).toBe('KEY_UNSUPPORTED');
  });

  test('the key hint of something that is not a PEM public key is KEY_UNSUPPORTED', async () => {
    expect(await codeOf(() => keyHintOf('not a key'))).toBe('KEY_UNSUPPORTED');
  });
});

test('a key pair that cannot be written is KEY_UNWRITABLE', async () => {
  expect(await codeOf(() => writeKeyPair(join(dir, 'no-such-dir', 'k.pem')))).toBe('KEY_UNWRITABLE');
});

test('an existing <file>.pub is KEY_EXISTS and leaves no private key behind', async () => {
  const out = join(dir, 'orphan.pem');
  writeFileSync(`${out}.pub`, 'old public key');
  expect(await codeOf(() => writeKeyPair(out))).toBe('KEY_EXISTS');
  expect(existsSync(out)).toBe(false);
  expect(readFileSync(`${out}.pub`, 'utf8')).toBe('old public key');
});

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import { chmod, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import type { KeyAlgorithm } from '@rekor-budget/core';
import { RekorError } from './error';

/** Signs DSSE pre-authentication encodings with one private key. */
export interface Signer {
  readonly algorithm: KeyAlgorithm;
  /** Names the key in envelopes and bundles (`keyid`, `publicKey.hint`). */
  readonly keyHint: string;
  /** The public key, SPKI PEM. */
  readonly publicKeyPem: string;
  /** A raw signature over `data` (DER for ECDSA). */
  sign(data: Buffer): Buffer;
}

export interface LoadSignerOptions {
  /** A PEM private key file, mode 0600 or stricter. */
  keyPath: string;
  /** @defaultValue sha256 of the public key's SPKI DER, hex */
  keyHint?: string;
}

function algorithmOf(key: KeyObject): KeyAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return 'ecdsa-p256';
  }
  return undefined;
}

/** The default key hint: sha256 of the public key's SPKI DER, in hex. */
export function keyHintOf(publicKeyPem: string): string {
  let der: Buffer;
  try {
    der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  } catch (cause) {
    throw new RekorError('KEY_UNSUPPORTED', 'the public key is not a PEM public key', { cause });
  }
  return createHash('sha256').update(der).digest('hex');
}

/** A signer from a PEM private key (ECDSA P-256 or Ed25519). */
export function createSigner(privateKeyPem: string, keyHint?: string): Signer {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (cause) {
    throw new RekorError('KEY_UNSUPPORTED', 'the signing key is not a PEM private key', { cause });
  }
  const algorithm = algorithmOf(key);
  if (algorithm === undefined) {
    throw new RekorError(
      'KEY_UNSUPPORTED',
      `signing keys must be ECDSA P-256 or Ed25519, got ${key.asymmetricKeyType}; create one with "rekor-budget keygen --out <file>"`,
    );
  }
  const publicKeyPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  const digest = algorithm === 'ed25519' ? null : 'sha256';
  return {
    algorithm,
    keyHint: keyHint ?? keyHintOf(publicKeyPem),
    publicKeyPem,
    sign: (data) => sign(digest, data, key),
  };
}

/**
 * Reads a private key file and returns its signer. A file that group or
 * others may read is refused (`KEY_PERMISSIONS`).
 */
export async function loadSigner(options: LoadSignerOptions): Promise<Signer> {
  const { keyPath } = options;
  let mode: number;
  let pem: string;
  try {
    mode = (await stat(keyPath)).mode;
    pem = await readFile(keyPath, 'utf8');
  } catch (cause) {
    throw new RekorError(
      'KEY_UNREADABLE',
      `cannot read the signing key ${keyPath}; check signing.keyPath (or SIGNING_KEY)`,
      { cause },
    );
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    throw new RekorError(
      'KEY_PERMISSIONS',
      `the signing key ${keyPath} is readable by group or others (mode ${octal}); run "chmod 600 ${keyPath}"`,
    );
  }
  return createSigner(pem, options.keyHint);
}

export interface KeyPairFiles {
  privateKeyPath: string;
  publicKeyPath: string;
  keyHint: string;
  algorithm: KeyAlgorithm;
}

/**
 * Generates a key pair and writes the private key (PKCS#8 PEM, mode 0600) to
 * `out` and the public key (SPKI PEM) to `out.pub`. Never overwrites a file.
 */
export async function writeKeyPair(
  out: string,
  algorithm: KeyAlgorithm = 'ecdsa-p256',
): Promise<KeyPairFiles> {
  const pair =
    algorithm === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const publicKeyPath = `${out}.pub`;
  try {
    await writeFile(out, privatePem, { mode: 0o600, flag: 'wx' });
  } catch (cause) {
    throw writeError(cause, out, publicKeyPath);
  }
  try {
    await chmod(out, 0o600);
    await writeFile(publicKeyPath, publicPem, { mode: 0o644, flag: 'wx' });
  } catch (cause) {
    // never leave a private key without its public half
    try {
      await unlink(out);
    } catch (cleanup) {
      throw new RekorError(
        'KEY_UNWRITABLE',
        `cannot write the key pair, and the private key ${out} is left without its public half; remove it and run keygen again`,
        { cause: new AggregateError([cause, cleanup]) },
      );
    }
    throw writeError(cause, out, publicKeyPath);
  }
  return { privateKeyPath: out, publicKeyPath, keyHint: keyHintOf(publicPem), algorithm };
}

function writeError(cause: unknown, out: string, publicKeyPath: string): RekorError {
  if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
    return new RekorError(
      'KEY_EXISTS',
      `${out} or ${publicKeyPath} already exists; choose another --out or remove the old key first`,
      { cause },
    );
  }
  return new RekorError('KEY_UNWRITABLE', `cannot write the key pair to ${out}`, { cause });
}

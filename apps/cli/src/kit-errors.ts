import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { RekorConfig } from '@rekor-budget/core';
import { OfflineKitError, type OfflineKitErrorCode } from '@rekor-budget/offline-kit';
import { loadSigner, RekorError } from '@rekor-budget/rekor';
import { EXIT, type CliIo } from './io';

/**
 * Codes that mean "fix the command line": a kit or file that is not there,
 * an --out that already exists, a command run on the wrong kind of site.
 * Every other code (a damaged or tampered kit or file) is a failed check: exit 1.
 */
const USAGE_CODES = new Set<OfflineKitErrorCode>([
  'KIT_NOT_FOUND',
  'KIT_EXISTS',
  'SITE_MISMATCH',
  'KEY_REQUIRED',
  'KEY_INVALID',
  'VERIFICATION_REQUIRED',
]);

/** Reports an `OfflineKitError` with its code and sets the exit code; rethrows anything else. */
export function reportKitError(e: unknown, io: CliIo, setExit: (code: number) => void): void {
  if (!(e instanceof OfflineKitError)) throw e;
  io.err(`rekor-budget: ${e.message} [${e.code}]`);
  setExit(USAGE_CODES.has(e.code) ? EXIT.USAGE : EXIT.FAILURE);
}

/** Reads a file named on the command line; `KIT_NOT_FOUND` (exit 2) when it cannot be read. */
export async function readInput(io: CliIo, option: string, file: string): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, file), 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'EIO';
    throw new OfflineKitError('KIT_NOT_FOUND', `${option} ${file}: cannot read the file (${code})`, {
      cause,
    });
  }
}

/**
 * The signing public keys a kit or receipts file is checked against: the
 * `--key` files given, else the public key of the configured signing key.
 * Throws `KEY_REQUIRED` when there is neither.
 */
export async function signingPublicKeys(
  io: CliIo,
  files: readonly string[],
  signing: RekorConfig['signing'],
): Promise<string[]> {
  if (files.length > 0) return Promise.all(files.map((f) => readInput(io, '--key', f)));
  if (signing.keyPath === undefined) {
    throw new OfflineKitError(
      'KEY_REQUIRED',
      "no signing public key to check against: pass the air-gapped site's public key with --key <pub.pem>, or set signing.keyPath",
    );
  }
  try {
    return [(await loadSigner({ keyPath: signing.keyPath })).publicKeyPem];
  } catch (cause) {
    if (!(cause instanceof RekorError)) throw cause;
    throw new OfflineKitError(
      'KEY_REQUIRED',
      `the configured signing key cannot be used (${cause.message}); pass the public key with --key <pub.pem>`,
      { cause },
    );
  }
}

import { OfflineKitError, type OfflineKitErrorCode } from '@rekor-budget/offline-kit';
import { EXIT, type CliIo } from './io';

/**
 * Codes that mean "fix the command line": a kit or file that is not there,
 * an --out that already exists, a command run on the wrong kind of site.
 * Every other code (a damaged or tampered kit or file) is a failed check: exit 1.
 */
const USAGE_CODES = new Set<OfflineKitErrorCode>(['KIT_NOT_FOUND', 'KIT_EXISTS', 'SITE_MISMATCH']);

/** Reports an `OfflineKitError` with its code and sets the exit code; rethrows anything else. */
export function reportKitError(e: unknown, io: CliIo, setExit: (code: number) => void): void {
  if (!(e instanceof OfflineKitError)) throw e;
  io.err(`rekor-budget: ${e.message} [${e.code}]`);
  setExit(USAGE_CODES.has(e.code) ? EXIT.USAGE : EXIT.FAILURE);
}

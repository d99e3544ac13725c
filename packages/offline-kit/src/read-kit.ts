import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SignedEnvelope } from '@rekor-budget/core';
import { sha256 } from './digest';
import { checkEnvelope, TrustedKeys } from './envelope-check';
import { OfflineKitError } from './error';
import { DEFAULT_KIT_LIMITS, listPlainFiles, readPlainFile, type KitLimits } from './files';
import { MANIFEST_FILE, parseManifest, type KitEntry, type KitManifest } from './manifest';

/** A kit that passed every check: its manifest and each entry's envelope. */
export interface VerifiedKit {
  dir: string;
  manifest: KitManifest;
  entries: { entry: KitEntry; envelope: SignedEnvelope }[];
}

export interface ReadKitOptions {
  /**
   * The signing public keys (PEM) the kit's envelopes must be signed with:
   * the air-gapped site's key(s). Required; the keys a kit carries are never
   * trusted by themselves.
   */
  trustedKeys: readonly string[];
  /** @defaultValue DEFAULT_KIT_LIMITS */
  limits?: Partial<KitLimits>;
}

/**
 * Reads a kit and verifies it completely before anything is done with it:
 * plain files only and within `limits`, the manifest and its digest, the
 * exact set of files (none missing, none extra), each file's sha256, and
 * each envelope, signed by one of `trustedKeys` (see `checkEnvelope`).
 * Throws `OfflineKitError` with the first problem found.
 */
export async function readKit(dir: string, options: ReadKitOptions): Promise<VerifiedKit> {
  const trusted = new TrustedKeys(options.trustedKeys);
  const limits = { ...DEFAULT_KIT_LIMITS, ...options.limits };
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
  } catch (cause) {
    throw new OfflineKitError(
      'KIT_NOT_FOUND',
      `${dir} is not a kit directory; pass the --out of offline export`,
      {
        cause,
      },
    );
  }
  let text: string;
  try {
    text = (await readPlainFile(join(dir, MANIFEST_FILE), MANIFEST_FILE, limits.maxManifestBytes)).toString(
      'utf8',
    );
  } catch (e) {
    if (e instanceof OfflineKitError && e.code === 'FILE_MISSING') {
      throw new OfflineKitError(
        'FILE_MISSING',
        `${MANIFEST_FILE} is missing from ${dir}: the kit is incomplete`,
        { cause: e, file: MANIFEST_FILE },
      );
    }
    throw e;
  }
  const manifest = parseManifest(text);
  const listed = new Set([MANIFEST_FILE, ...manifest.entries.map((e) => e.file)]);
  const { files: present } = await listPlainFiles(dir, listed.size, limits.maxKitBytes);
  const extra = present.filter((f) => !listed.has(f));
  if (extra.length > 0) {
    throw new OfflineKitError(
      'FILE_UNEXPECTED',
      `the kit holds ${extra.length} file(s) its manifest does not list (${extra.slice(0, 5).join(', ')}); use the kit exactly as exported`,
      { file: extra[0] },
    );
  }
  const have = new Set(present);
  const missing = [...listed].filter((f) => !have.has(f));
  if (missing.length > 0) {
    throw new OfflineKitError(
      'FILE_MISSING',
      `${missing.length} file(s) listed in the manifest are missing (${missing.slice(0, 5).join(', ')}): the kit is truncated; copy it again`,
      { file: missing[0] },
    );
  }
  const entries: VerifiedKit['entries'] = [];
  let total = Buffer.byteLength(text);
  for (const entry of manifest.entries) {
    const bytes = await readPlainFile(join(dir, entry.file), entry.file, limits.maxEnvelopeBytes);
    total += bytes.length;
    if (total > limits.maxKitBytes) {
      throw new OfflineKitError(
        'KIT_TOO_LARGE',
        `the kit's files add up to more than ${limits.maxKitBytes} bytes; export smaller kits`,
        { file: entry.file },
      );
    }
    if (sha256(bytes) !== entry.sha256) {
      throw new OfflineKitError(
        'FILE_DIGEST_MISMATCH',
        `${entry.file} does not match its sha256 in the manifest: it was edited or damaged; copy the kit again`,
        { file: entry.file },
      );
    }
    entries.push({ entry, envelope: checkEnvelope(bytes, entry, trusted) });
  }
  return { dir, manifest, entries };
}

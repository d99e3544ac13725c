import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { SignedEnvelope } from '@rekor-budget/core';
import { sha256 } from './digest';
import { checkEnvelope } from './envelope-check';
import { OfflineKitError } from './error';
import { MANIFEST_FILE, parseManifest, type KitEntry, type KitManifest } from './manifest';

/** A kit that passed every check: its manifest and each entry's envelope. */
export interface VerifiedKit {
  dir: string;
  manifest: KitManifest;
  entries: { entry: KitEntry; envelope: SignedEnvelope }[];
}

/** Every file under `dir`, kit-relative with `/`; anything but a plain file counts as a file too. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  await walk(dir);
  return out.sort();
}

/**
 * Reads a kit and verifies it completely before anything is done with it:
 * the manifest and its digest, the exact set of files (none missing, none
 * extra), each file's sha256, and each envelope (see `checkEnvelope`).
 * Throws `OfflineKitError` with the first problem found.
 */
export async function readKit(dir: string): Promise<VerifiedKit> {
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
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (cause) {
    throw new OfflineKitError(
      'FILE_MISSING',
      `${MANIFEST_FILE} is missing from ${dir}: the kit is incomplete`,
      {
        cause,
        file: MANIFEST_FILE,
      },
    );
  }
  const manifest = parseManifest(text);
  const listed = new Set([MANIFEST_FILE, ...manifest.entries.map((e) => e.file)]);
  const present = await listFiles(dir);
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
  for (const entry of manifest.entries) {
    const bytes = await readFile(join(dir, entry.file));
    if (sha256(bytes) !== entry.sha256) {
      throw new OfflineKitError(
        'FILE_DIGEST_MISMATCH',
        `${entry.file} does not match its sha256 in the manifest: it was edited or damaged; copy the kit again`,
        { file: entry.file },
      );
    }
    entries.push({ entry, envelope: checkEnvelope(bytes, entry) });
  }
  return { dir, manifest, entries };
}

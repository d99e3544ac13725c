import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { OfflineKitError } from './error';

/**
 * How much of a kit is read at most. A kit comes from another site on a
 * removable medium: its files are read as plain files only (never through a
 * symlink, never a device or FIFO) and within these sizes.
 */
export interface KitLimits {
  /** Largest `manifest.json`. @defaultValue 64 MiB */
  maxManifestBytes: number;
  /** Largest envelope file. @defaultValue 4 MiB */
  maxEnvelopeBytes: number;
  /** All files of the kit together. @defaultValue 1 GiB */
  maxKitBytes: number;
}

export const DEFAULT_KIT_LIMITS: KitLimits = {
  maxManifestBytes: 64 * 1024 * 1024,
  maxEnvelopeBytes: 4 * 1024 * 1024,
  maxKitBytes: 1024 * 1024 * 1024,
};

function notRegular(file: string, what: string): OfflineKitError {
  return new OfflineKitError(
    'FILE_NOT_REGULAR',
    `${file} is ${what}, not a plain file; a kit holds plain files only (copy it again, without links)`,
    { file },
  );
}

function tooLarge(file: string, size: number, max: number): OfflineKitError {
  return new OfflineKitError(
    'FILE_TOO_LARGE',
    `${file} is ${size} bytes, over the ${max} bytes a kit file may have; this is not a kit offline export wrote`,
    { file },
  );
}

/** What a directory entry is, in words, when it is not a plain file or directory. */
function kindOf(e: { isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (e.isSymbolicLink()) return 'a symbolic link';
  if (e.isFIFO()) return 'a FIFO';
  if (e.isSocket()) return 'a socket';
  return 'a device';
}

/**
 * Reads a plain file of at most `maxBytes`, kit-relative name `file`. The
 * file is opened without following a symlink and without blocking (a FIFO
 * opens at once), then checked on the open handle, so it cannot be swapped
 * between the check and the read.
 */
export async function readPlainFile(path: string, file: string, maxBytes: number): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EMLINK') throw notRegular(file, 'a symbolic link');
    if (code === 'ENOENT') {
      throw new OfflineKitError('FILE_MISSING', `${file} is missing: the kit is incomplete`, { file, cause });
    }
    throw new OfflineKitError('KIT_NOT_FOUND', `${file} cannot be read (${code ?? 'EIO'})`, { file, cause });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile())
      throw notRegular(file, st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a directory' : 'a device');
    if (st.size > maxBytes) throw tooLarge(file, st.size, maxBytes);
    // read at most one byte more than allowed: a file that grows is caught too
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw tooLarge(file, length, maxBytes);
      if (length === buf.length) break;
    }
    return buf.subarray(0, length);
  } finally {
    await handle.close();
  }
}

/**
 * Every plain file under `dir`, kit-relative with `/`, sorted, with the sum
 * of their sizes. Anything that is not a plain file or a directory (a
 * symlink, FIFO, socket, device) is refused (`FILE_NOT_REGULAR`); listing
 * stops with `FILE_UNEXPECTED` past `maxFiles` files, and with
 * `KIT_TOO_LARGE` past `maxBytes`.
 */
export async function listPlainFiles(
  dir: string,
  maxFiles: number,
  maxBytes: number,
): Promise<{ files: string[]; bytes: number }> {
  const files: string[] = [];
  let bytes = 0;
  const walk = async (rel: string) => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const name = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        await walk(name);
        continue;
      }
      if (!e.isFile()) throw notRegular(name, kindOf(e));
      files.push(name);
      if (files.length > maxFiles) {
        throw new OfflineKitError(
          'FILE_UNEXPECTED',
          `the kit holds more files than its manifest lists (${name} and others); use the kit exactly as exported`,
          { file: name },
        );
      }
      bytes += (await lstat(join(dir, name))).size;
      if (bytes > maxBytes) {
        throw new OfflineKitError(
          'KIT_TOO_LARGE',
          `the kit's files add up to more than ${maxBytes} bytes; export smaller kits`,
          { file: name },
        );
      }
    }
  };
  await walk('');
  return { files: files.sort(), bytes };
}

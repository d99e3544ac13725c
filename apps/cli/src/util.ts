import { writeFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { InputError } from '@rekor-budget/core';

/** A commander parser for a whole-number flag (negative ones too when `min` is). */
export function whole(name: string, max = Number.MAX_SAFE_INTEGER, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || n > max || n < min)
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    return n === 0 ? 0 : n;
  };
}

/** Waits for SIGINT or SIGTERM. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** Polls `check` every 100 ms until it holds; throws after `timeoutMs`, naming `what`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Writes `text` to `file`, the value of the `option` flag (e.g. `--out`): an
 * existing file is left alone unless `force`, and a path that cannot be
 * written (no such directory, a directory, no permission) is refused with
 * what to do instead.
 */
export function writeOutFile(
  file: string,
  text: string,
  options: { option: string; force?: boolean; mode?: number },
): void {
  try {
    writeFileSync(file, text, { mode: options.mode ?? 0o644, flag: options.force ? 'w' : 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new InputError(
        'INVALID_INPUT',
        options.option,
        `${file} exists; pass --force to overwrite it, or another ${options.option}`,
      );
    }
    const why =
      code === 'ENOENT'
        ? 'its directory does not exist'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : (e as Error).message;
    throw new InputError(
      'INVALID_INPUT',
      options.option,
      `cannot write ${file} (${why}); choose a file in a directory that exists and you may write`,
    );
  }
}

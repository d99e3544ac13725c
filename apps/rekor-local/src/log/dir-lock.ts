import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RekorLocalError } from '../errors';
import { DATA_FILES } from './data-dir';

/**
 * Takes `<data>/LOCK` (holding the owner's pid) so two logs never append to
 * one data directory. A lock left by a process that no longer runs is taken
 * over. Returns the release function.
 */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, DATA_FILES.lock);
  const token = `${process.pid} ${Math.random().toString(36).slice(2)}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, token, { flag: 'wx' });
      return () => {
        if (readOrEmpty(path) === token) rmSync(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number(readOrEmpty(path).split(' ')[0]);
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      throw new RekorLocalError(
        'DATA_DIR_INVALID',
        `data directory ${dir} is in use by process ${pid}${pid === process.pid ? ' (this process: close the other log first)' : ''}`,
      );
    }
    rmSync(path, { force: true });
  }
  throw new RekorLocalError('DATA_DIR_INVALID', `could not lock data directory ${dir}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** What the worker benchmarks share beside @rekor-budget/testing's: arguments, the CLI, a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { redisUrl } from '@rekor-budget/testing';

export const REDIS_URL = redisUrl();
export const CLI = join(__dirname, '..', '..', 'cli', 'bin', 'rekor-budget.js');

/** `--name value` of the command line, else `dflt`. */
export function arg(name: string, dflt: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
}

/** A Node process with the service variables cleared, so only its arguments configure it. */
export function spawnNode(argv: string[]): ChildProcess {
  return spawn(
    process.execPath,
    [...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), ...argv],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, REDIS_URL: '', DATABASE_URL: '', REKOR_URL: '', SIGNING_KEY: '' },
    },
  );
}

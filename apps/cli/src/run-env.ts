import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Env } from '@rekor-budget/core';

/** Where `start` writes what it chose, relative to the checkout (its default work directory). */
export const RUN_ENV_FILE = join('.rekor-budget', 'env');

/**
 * Writes `KEY=value` lines (mode 0600: it holds the dashboard password) for
 * the commands run in the checkout (`status`, `submit`, `receipts`, `drain`,
 * `offline`, ...) to find the system `start` runs.
 */
export function writeRunEnv(file: string, vars: Record<string, string | undefined>): void {
  mkdirSync(dirname(file), { recursive: true });
  const lines = Object.entries(vars)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  writeFileSync(
    file,
    `# written by \`rekor-budget start\`: what this checkout's run uses; commands run here without --config read it\n${lines.join('\n')}\n`,
    { mode: 0o600 },
  );
}

/** The variables of `<cwd>/.rekor-budget/env`, or none. */
export function readRunEnv(cwd: string): Record<string, string> {
  const file = resolve(cwd, RUN_ENV_FILE);
  if (!existsSync(file)) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!;
  }
  return vars;
}

/** `env` over the run's variables: what the operator set always wins. */
export function withRunEnv(env: Env, cwd: string): Env {
  const run = readRunEnv(cwd);
  const merged: Record<string, string | undefined> = { ...run };
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') merged[k] = v;
  return merged;
}

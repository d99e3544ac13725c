import type { Env } from '@rekor-budget/core';

/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Env;
  cwd: string;
}

export const processIo: CliIo = {
  out: (t) => void process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => void process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  env: process.env,
  cwd: process.cwd(),
};

/** Documented exit codes of every command. */
export const EXIT = {
  /** Success. */
  OK: 0,
  /** The command ran and failed (a service down, a check that did not pass). */
  FAILURE: 1,
  /** Bad usage or configuration: fix the command line or the config file. */
  USAGE: 2,
} as const;

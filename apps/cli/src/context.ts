import { loadConfig, type LoadedConfig, type RekorConfig } from '@rekor-budget/core';
import type { CliIo } from './io';
import { withRunEnv } from './run-env';

export { redactUrl } from '@rekor-budget/core';

export interface GlobalOptions {
  config?: string;
}

/** The configuration each run loaded, so a failure at the top can name the service it came from. */
const loaded = new WeakMap<CliIo, RekorConfig>();

/**
 * Loads the configuration the way every command does. `runEnv`: without
 * `--config`, also take the URLs and namespace `start` wrote to
 * `.rekor-budget/env` (the environment still wins), so a command run beside
 * `start` sees the system it runs.
 */
export function configFor(opts: GlobalOptions, io: CliIo, options: { runEnv?: boolean } = {}): LoadedConfig {
  const env = options.runEnv && opts.config === undefined ? withRunEnv(io.env, io.cwd) : io.env;
  const result = loadConfig({ file: opts.config, cwd: io.cwd, env });
  loaded.set(io, result.config);
  return result;
}

/** The configuration this run's command loaded, if it got that far. */
export function configOfRun(io: CliIo): RekorConfig | undefined {
  return loaded.get(io);
}

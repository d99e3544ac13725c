import { loadConfig, type LoadedConfig, type RekorConfig } from '@rekor-budget/core';
import type { CliIo } from './io';

export { redactUrl } from '@rekor-budget/core';

export interface GlobalOptions {
  config?: string;
}

/** The configuration each run loaded, so a failure at the top can name the service it came from. */
const loaded = new WeakMap<CliIo, RekorConfig>();

/** Loads the configuration the way every command does. */
export function configFor(opts: GlobalOptions, io: CliIo): LoadedConfig {
  const result = loadConfig({ file: opts.config, cwd: io.cwd, env: io.env });
  loaded.set(io, result.config);
  return result;
}

/** The configuration this run's command loaded, if it got that far. */
export function configOfRun(io: CliIo): RekorConfig | undefined {
  return loaded.get(io);
}

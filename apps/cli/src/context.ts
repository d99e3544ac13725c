import { loadConfig, type LoadedConfig } from '@rekor-budget/core';
import type { CliIo } from './io';

export interface GlobalOptions {
  config?: string;
}

/** Loads the configuration the way every command does. */
export function configFor(opts: GlobalOptions, io: CliIo): LoadedConfig {
  return loadConfig({ file: opts.config, cwd: io.cwd, env: io.env });
}

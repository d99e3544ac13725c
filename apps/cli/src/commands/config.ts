import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { REDACTED, redactUrl, toFileConfig, type RekorConfig } from '@rekor-budget/core';
import { configFor, type GlobalOptions } from '../context';
import { EXIT, type CliIo } from '../io';
import { writeOutFile } from '../util';

/** The commented example configuration the CLI ships (a copy of attestor.example.yaml). */
export function exampleConfigText(): string {
  return readFileSync(join(__dirname, '..', 'attestor.example.yaml'), 'utf8');
}

/** The effective configuration in the file's own keys, every URL credential and secret as ***. */
export function shownConfig(c: RekorConfig): Record<string, unknown> {
  const secret = (v: string | undefined) => (v === undefined ? undefined : REDACTED);
  return toFileConfig({
    ...c,
    serverUrl: redactUrl(c.serverUrl),
    redis: shownRedis(c.redis),
    database: { ...c.database, url: redactUrl(c.database.url) },
    dashboard: { ...c.dashboard, password: secret(c.dashboard.password) },
    metrics: { ...c.metrics, password: secret(c.metrics.password), token: secret(c.metrics.token) },
  });
}

function shownRedis(r: RekorConfig['redis']): RekorConfig['redis'] {
  const secret = (v: string | undefined) => (v === undefined ? undefined : REDACTED);
  const base = { ...r, password: secret(r.password) };
  if (base.topology === 'single') return { ...base, url: redactUrl(base.url) };
  if (base.topology === 'sentinel') return { ...base, sentinelPassword: secret(base.sentinelPassword) };
  return base;
}

export function registerConfig(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const config = program.command('config').description('check, print or create the configuration');
  config
    .command('check')
    .description(
      'validate the configuration (defaults and environment applied); --print shows the effective values as an attestor.yaml',
    )
    .option('--print', 'print the effective configuration in the file’s own keys (a valid attestor.yaml)')
    .option('--json', 'print the effective configuration as JSON, in the file’s own keys')
    .action((opts: { json?: boolean; print?: boolean }, cmd: Command) => {
      const { config: c, source } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io);
      const shown = shownConfig(c);
      if (opts.json) io.out(JSON.stringify({ source, config: shown }, null, 2));
      else if (opts.print)
        io.out(
          `# effective configuration (source: ${source}; defaults and environment applied, secrets as ***)\n${stringify({ attestor: { rekor: shown } }, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' })}`,
        );
      else
        io.out(`configuration OK (source: ${source}); \`config check --print\` shows the effective values`);
      setExit(EXIT.OK);
    });
  config
    .command('init')
    .description('write a commented attestor.yaml with every key at its default')
    .option('--out <file>', 'where to write it', 'attestor.yaml')
    .option('--force', 'overwrite an existing file')
    .action((opts: { out: string; force?: boolean }) => {
      const file = resolve(io.cwd, opts.out);
      writeOutFile(file, exampleConfigText(), { option: '--out', force: opts.force === true });
      io.out(
        `wrote ${file}: every key at its default, with comments; \`rekor-budget config check\` validates it`,
      );
      setExit(EXIT.OK);
    });
}

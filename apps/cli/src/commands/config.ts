import type { Command } from 'commander';
import { stringify } from 'yaml';
import { REDACTED, redactUrl } from '@rekor-budget/core';
import { configFor, type GlobalOptions } from '../context';
import { EXIT, type CliIo } from '../io';

export function registerConfig(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const config = program.command('config').description('inspect the configuration');
  config
    .command('check')
    .description(
      'validate the configuration and print the effective values (defaults and environment applied)',
    )
    .option('--json', 'print JSON instead of YAML')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const { config: c, source } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io);
      const secret = (v: string | undefined) => (v === undefined ? undefined : REDACTED);
      // every URL without its credentials, every password and token as ***
      const shown = {
        ...c,
        serverUrl: redactUrl(c.serverUrl),
        redis: { ...c.redis, url: redactUrl(c.redis.url) },
        database: { ...c.database, url: redactUrl(c.database.url) },
        dashboard: { ...c.dashboard, password: secret(c.dashboard.password) },
        metrics: { ...c.metrics, password: secret(c.metrics.password), token: secret(c.metrics.token) },
      };
      if (opts.json) io.out(JSON.stringify({ source, config: shown }, null, 2));
      else io.out(`# configuration OK (source: ${source})\n${stringify({ attestor: { rekor: shown } })}`);
      setExit(EXIT.OK);
    });
}

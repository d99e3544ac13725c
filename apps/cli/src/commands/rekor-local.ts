import { InvalidArgumentError, Option, type Command } from 'commander';
import { InputError } from '@rekor-budget/core';
import {
  startRekorLocal,
  API_MODES,
  DEFAULT_BODY_LIMIT_BYTES,
  type RekorApiMode,
} from '@rekor-budget/rekor-local';
import { EXIT, type CliIo } from '../io';
import { untilSignal, whole } from '../util';

interface RekorLocalFlags {
  port: number;
  data: string;
  host: string;
  bodyLimit: number;
  faults?: boolean;
  adminPort?: number;
  fsync: boolean;
  publicUrl?: string;
  api: RekorApiMode;
}

function httpUrl(value: string): string {
  if (!/^https?:\/\/[^/]+/.test(value)) {
    throw new InvalidArgumentError('use an http(s) URL, e.g. https://rekor.example');
  }
  return value;
}

export function registerRekorLocal(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('rekor-local')
    .description('run a Rekor-compatible transparency log (development, tests, air-gapped sites)')
    .requiredOption('--data <dir>', 'data directory: log key, log.json, entries.jsonl (created if missing)')
    .option('-p, --port <n>', 'port to listen on (0 picks a free one)', whole('--port', 65535), 3030)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option(
      '--body-limit <bytes>',
      'largest request body, at least 1024; larger ones get 413',
      whole('--body-limit', Number.MAX_SAFE_INTEGER, 1024),
      DEFAULT_BODY_LIMIT_BYTES,
    )
    .option('--faults', 'enable fault injection (POST/DELETE /admin/faults)')
    .option(
      '--admin-port <n>',
      'separate listener for /admin/faults that stays up while "offline"',
      whole('--admin-port', 65535),
    )
    .option('--no-fsync', 'acknowledge entries once written, without fdatasync')
    .option(
      '--public-url <url>',
      'base URL named in /trusted_root.json, if clients use another address',
      httpUrl,
    )
    .addOption(
      new Option(
        '--api <version>',
        'Rekor API to serve: v1, v2 (as rekor-tiles: /api/v2/log/entries and tlog-tiles reads) or both',
      )
        .choices(API_MODES)
        .default('both'),
    )
    .action(async (flags: RekorLocalFlags) => {
      if (flags.adminPort !== undefined && !flags.faults) {
        throw new InputError(
          'INVALID_INPUT',
          '--admin-port',
          'serves /admin/faults, which only --faults turns on; add --faults or drop --admin-port',
        );
      }
      const server = await startRekorLocal({
        port: flags.port,
        dataDir: flags.data,
        host: flags.host,
        bodyLimitBytes: flags.bodyLimit,
        faults: flags.faults ?? false,
        adminPort: flags.adminPort,
        fsync: flags.fsync,
        publicUrl: flags.publicUrl,
        api: flags.api,
      });
      io.out(`rekor-local: listening on ${server.url} (data ${flags.data})`);
      io.out(`  log ID        ${server.logId}`);
      io.out(`  API           ${server.api}`);
      io.out(`  trusted root  ${server.url}/trusted_root.json`);
      if (flags.faults) io.out(`  faults        ${server.adminUrl ?? server.url}/admin/faults`);
      const signal = await untilSignal();
      io.out(`rekor-local: ${signal}, stopping`);
      await server.close();
      setExit(EXIT.OK);
    });
}

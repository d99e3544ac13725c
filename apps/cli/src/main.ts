import { Command, CommanderError } from 'commander';
import { ConfigError, InputError, RekorBudgetError, redactText, truncate } from '@rekor-budget/core';
import { registerConfig } from './commands/config';
import { registerKey, registerKeygen } from './commands/keygen';
import { registerMigrate } from './commands/migrate';
import { registerRekorLocal } from './commands/rekor-local';
import { registerStart } from './commands/start';
import { registerDemo } from './commands/demo';
import { registerVerify } from './commands/verify';
import { registerWorker } from './commands/worker';
import { registerSubmit } from './commands/submit';
import { registerReceipts } from './commands/receipts';
import { registerStatus } from './commands/status';
import { registerDrain } from './commands/drain';
import { registerDashboard } from './commands/dashboard';
import { registerOffline } from './commands/offline';
import { registerRejected } from './commands/rejected';
import { configOfRun } from './context';
import { serviceFailure, setupFailure } from './failures';
import { EXIT, processIo, type CliIo } from './io';

const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  failure (a service is down, a check did not pass)
  2  usage or configuration error (the message names what to fix)

Configuration: --config <file>, else ./attestor.yaml if present, else defaults.
Environment overrides: REDIS_URL, REDIS_PREFIX, DATABASE_URL, REKOR_URL, SIGNING_KEY,
DASHBOARD_PORT, DASHBOARD_USER, DASHBOARD_PASSWORD, METRICS_PORT, METRICS_USER,
METRICS_PASSWORD, METRICS_TOKEN. Commands that talk to the running system (status,
submit, receipts, drain, rejected, offline, worker, dashboard, migrate) also read
.rekor-budget/env, written by start, when no --config is given.`;

/**
 * Error codes that mean the configuration (or a file it names) must be fixed:
 * exit 2, like a configuration file that does not validate.
 */
const CONFIGURATION_CODES: ReadonlySet<string> = new Set([
  'SIGNING_KEY_MISSING',
  'KEY_UNREADABLE',
  'KEY_PERMISSIONS',
  'KEY_UNSUPPORTED',
  // a port in use or a host that is not this machine's: a flag or key must change
  'LISTEN_FAILED',
  'DASHBOARD_LISTEN_FAILED',
]);

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('rekor-budget')
    .description('Budgeted, loss-free submission of DSSE attestations to a Sigstore Rekor log')
    .option('-c, --config <file>', 'configuration file (YAML, attestor.rekor.*)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerConfig(program, io, setExit);
  registerMigrate(program, io, setExit);
  registerStart(program, io, setExit);
  registerDemo(program, io, setExit);
  registerKeygen(program, io, setExit);
  registerKey(program, io, setExit);
  registerVerify(program, io, setExit);
  registerRekorLocal(program, io, setExit);
  registerWorker(program, io, setExit);
  registerSubmit(program, io, setExit);
  registerReceipts(program, io, setExit);
  registerStatus(program, io, setExit);
  registerDrain(program, io, setExit);
  registerDashboard(program, io, setExit);
  registerOffline(program, io, setExit);
  registerRejected(program, io, setExit);
  for (const cmd of program.commands) applyDefaults(cmd, io);
  return program;
}

function applyDefaults(cmd: Command, io: CliIo): void {
  // commander checks required options but does not say so in --help
  for (const option of cmd.options) {
    if (option.mandatory && !option.description.endsWith('(required)'))
      option.description = `${option.description} (required)`;
  }
  cmd.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  cmd.showHelpAfterError('(run with --help for usage)');
  for (const sub of cmd.commands) applyDefaults(sub, io);
}

/** Runs the CLI and resolves to its exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let exit: number = EXIT.OK;
  const program = buildProgram(io, (code) => {
    exit = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exit;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.help' ||
        e.code === 'commander.version'
      ) {
        return EXIT.OK;
      }
      return EXIT.USAGE;
    }
    if (e instanceof InputError) {
      io.err(`rekor-budget: ${shown(e.message)} [${e.code}]`);
      return EXIT.USAGE;
    }
    if (e instanceof ConfigError) {
      io.err(`rekor-budget: ${shown(e.message)}`);
      return EXIT.USAGE;
    }
    if (e instanceof RekorBudgetError && CONFIGURATION_CODES.has(e.code)) {
      io.err(`rekor-budget: ${shown(e.message)} [${e.code}]`);
      return EXIT.USAGE;
    }
    const setup = setupFailure(e, configOfRun(io));
    if (setup !== undefined) {
      io.err(`rekor-budget: ${setup.text} [${setup.code}]`);
      return EXIT.FAILURE;
    }
    // a service that did not answer, wrapped or not: one line naming it, where, and the fix
    const service =
      e instanceof RekorBudgetError && e.code === 'SERVICE_UNAVAILABLE'
        ? undefined
        : serviceFailure(e, configOfRun(io));
    if (service !== undefined) {
      io.err(`rekor-budget: ${service} [SERVICE_UNAVAILABLE]`);
      return EXIT.FAILURE;
    }
    if (e instanceof RekorBudgetError) {
      io.err(`rekor-budget: ${shown(e.message)} [${e.code}]`);
      return EXIT.FAILURE;
    }
    // a bug, not an input: one line, and the stack only when asked for
    const name = e instanceof Error ? e.name : 'Error';
    io.err(
      `rekor-budget: unexpected ${name}: ${shown(e instanceof Error ? e.message : String(e))} (LOG_LEVEL=debug prints the stack) [INTERNAL_ERROR]`,
    );
    if (io.env.LOG_LEVEL?.toLowerCase() === 'debug' && e instanceof Error && e.stack)
      io.err(redactText(e.stack));
    return EXIT.FAILURE;
  }
}

/** A message as printed: credentials in URLs redacted, and never longer than a screenful. */
function shown(message: string): string {
  return truncate(redactText(message), 4000);
}

import type { Command } from 'commander';
import { InputError } from '@rekor-budget/core';
import { dashboardCredentials, DashboardError, startDashboard } from '@rekor-budget/dashboard';
import { configFor, type GlobalOptions } from '../context';
import { EXIT, type CliIo } from '../io';
import { createCliLogger } from '../logger';
import { untilSignal, whole } from '../util';
import { APP_NAME, serviceRuntime } from '../wiring';

interface DashboardFlags {
  port?: number;
  host?: string;
  insecureLocal?: boolean;
  readOnly?: boolean;
}

export function registerDashboard(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('dashboard')
    .description('serve bull-board for the tier queues (/queues) and the per-tenant budget view (/budgets)')
    .option(
      '-p, --port <n>',
      'port to listen on, 0 picks a free one (default: dashboard.port)',
      whole('--port', 65535),
    )
    .option('--host <address>', 'address to listen on (default: all interfaces)')
    .option(
      '--insecure-local',
      'serve without DASHBOARD_USER/DASHBOARD_PASSWORD, on 127.0.0.1 only, answering only to Host 127.0.0.1, localhost or [::1] (credentials, if set, still apply)',
    )
    .option('--read-only', 'bull-board in read-only mode, whatever dashboard.readOnly says')
    .action(async (flags: DashboardFlags, cmd: Command) => {
      const { config } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io, { runEnv: true });
      if (flags.readOnly) config.dashboard.readOnly = true;
      if (flags.insecureLocal && flags.host !== undefined && flags.host !== '127.0.0.1') {
        throw new InputError(
          'INVALID_INPUT',
          '--host',
          `${JSON.stringify(flags.host)}: --insecure-local serves on 127.0.0.1 only; drop --host, or set credentials and drop --insecure-local`,
        );
      }
      try {
        dashboardCredentials(config.dashboard, flags.insecureLocal);
      } catch (e) {
        if (e instanceof DashboardError) {
          io.err(`rekor-budget: ${e.message} [${e.code}]`);
          setExit(EXIT.USAGE);
          return;
        }
        throw e;
      }
      const runtime = await serviceRuntime(config, createCliLogger(io), APP_NAME.dashboard);
      let running;
      try {
        running = await startDashboard({
          runtime,
          port: flags.port ?? config.dashboard.port,
          ...(flags.host === undefined ? {} : { host: flags.host }),
          insecureLocal: flags.insecureLocal ?? false,
        });
      } catch (e) {
        await runtime.close();
        throw e;
      }
      const auth = config.dashboard.user === undefined ? 'no authentication (127.0.0.1 only)' : 'basic auth';
      io.out(
        `dashboard: listening on ${running.url} (${auth}${config.dashboard.readOnly ? ', read-only' : ''})`,
      );
      io.out(`  budgets  ${running.url}/budgets`);
      io.out(`  queues   ${running.url}/queues`);
      const signal = await untilSignal();
      io.out(`dashboard: ${signal}, stopping`);
      await running.close();
      await runtime.close();
      setExit(EXIT.OK);
    });
}

import { redactUrl } from '@rekor-budget/core';
import type { Command } from 'commander';
import { createDb, migrateToLatest } from '@rekor-budget/db';
import { configFor, type GlobalOptions } from '../context';
import { ensureDatabase } from '../database';
import { EXIT, type CliIo } from '../io';

/** Applies pending migrations; returns the names applied. */
export async function runMigrations(url: string): Promise<string[]> {
  const db = createDb({ url, max: 1, applicationName: 'rekor-budget-migrate' });
  try {
    return (await migrateToLatest(db)).applied;
  } finally {
    await db.destroy();
  }
}

export function registerMigrate(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('migrate')
    .description('create or upgrade the attestor schema in Postgres (idempotent; uses DATABASE_URL)')
    .option('--create-database', 'create the database first if it does not exist')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean; createDatabase?: boolean }, cmd: Command) => {
      const { config } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io, { runEnv: true });
      if (opts.createDatabase && (await ensureDatabase(config.database.url)))
        (opts.json ? io.err : io.out)(`created database ${redactUrl(config.database.url)}`);
      const applied = await runMigrations(config.database.url);
      if (opts.json) io.out(JSON.stringify({ database: redactUrl(config.database.url), applied }));
      else if (applied.length === 0) io.out(`database ${redactUrl(config.database.url)} is up to date`);
      else
        io.out(
          `applied ${applied.length} migration(s) to ${redactUrl(config.database.url)}: ${applied.join(', ')}`,
        );
      setExit(EXIT.OK);
    });
}

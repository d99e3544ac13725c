import type { Command } from 'commander';
import { configFor, redactUrl, type GlobalOptions } from '../context';
import { EXIT, type CliIo } from '../io';
import { probePostgres, probeRedis, probeRekor } from '../probe';
import { runMigrations } from './migrate';

const HOW_TO_START = {
  redis:
    'start it with `redis-server --daemonize yes` or `docker compose up -d redis`, or point REDIS_URL at yours',
  postgres:
    'start it with `pg_ctlcluster <version> main start` or `docker compose up -d postgres`, or point DATABASE_URL at yours',
};

export function registerStart(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('start')
    .description('check Redis, Postgres and Rekor, apply migrations, and report what is running')
    .action(async (_opts: unknown, cmd: Command) => {
      const { config, source } = configFor(cmd.optsWithGlobals<GlobalOptions>(), io);
      io.out(`rekor-budget: configuration from ${source}`);
      const [redis, postgres] = await Promise.all([
        probeRedis(config.redis.url),
        probePostgres(config.database.url),
      ]);
      io.out(
        `  redis     ${redactUrl(config.redis.url)}: ${redis.ok ? `up (${redis.detail})` : `DOWN (${redis.detail})`}`,
      );
      io.out(
        `  postgres  ${redactUrl(config.database.url)}: ${postgres.ok ? `up (${postgres.detail})` : `DOWN (${postgres.detail})`}`,
      );
      if (!redis.ok) io.err(`Redis does not answer: ${HOW_TO_START.redis}`);
      if (!postgres.ok) io.err(`Postgres does not answer: ${HOW_TO_START.postgres}`);
      if (!redis.ok || !postgres.ok) {
        setExit(EXIT.FAILURE);
        return;
      }
      const applied = await runMigrations(config.database.url);
      io.out(`  schema    attestor: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
      if (config.offline.airGapped) {
        io.out(`  rekor     air-gapped mode: Rekor is never contacted`);
      } else {
        const rekor = await probeRekor(config.serverUrl);
        io.out(
          `  rekor     ${config.serverUrl}: ${rekor.ok ? `up (${rekor.detail})` : `unreachable (${rekor.detail})`}`,
        );
      }
      setExit(EXIT.OK);
    });
}

import { Migrator, type Kysely, type MigrationResult } from 'kysely';
import { migrations } from './migrations';
import { RekorBudgetError } from '@rekor-budget/core';

export interface MigrateResult {
  /** Migrations applied by this call (empty when already up to date). */
  applied: string[];
  /** Every migration the database now has. */
  all: string[];
}

export class MigrationError extends RekorBudgetError<'MIGRATION_FAILED'> {}

function migrator(db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: 'public',
    migrationTableName: 'rekor_budget_migration',
    migrationLockTableName: 'rekor_budget_migration_lock',
  });
}

/** Applies every pending migration; safe to run concurrently and repeatedly. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrateResult> {
  const { error, results } = await migrator(db).migrateToLatest();
  const failed = results?.find((r: MigrationResult) => r.status === 'Error');
  if (error !== undefined || failed) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(
      'MIGRATION_FAILED',
      failed
        ? `migration ${failed.migrationName} failed: ${reason}; check that the database user may create schemas and tables`
        : `cannot migrate the database: ${reason}; check that Postgres runs and DATABASE_URL points at it`,
      { cause: error },
    );
  }
  return {
    applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName),
    all: Object.keys(migrations),
  };
}

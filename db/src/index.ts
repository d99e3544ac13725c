export { createDb } from './connect';
export type { CreateDbOptions } from './connect';
export { migrateToLatest, MigrationError } from './migrate';
export type { MigrateResult } from './migrate';
export { migrations } from './migrations';
export type * from './schema';

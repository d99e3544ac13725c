import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { createTestDatabase, type TestDatabase } from '@rekor-budget/testing';
import { migrateToLatest, migrations } from '@rekor-budget/db';

interface ColumnRow {
  table_name: string;
  column_name: string;
  data_type: string;
  is_nullable: string;
  column_default: string | null;
}

async function columns(db: Kysely<any>, schema: string): Promise<Map<string, ColumnRow>> {
  const { rows } = await sql<ColumnRow>`
    SELECT table_name, column_name, data_type, is_nullable, column_default
      FROM information_schema.columns WHERE table_schema = ${schema}`.execute(db);
  return new Map(rows.map((r) => [`${r.table_name}.${r.column_name}`, r]));
}

async function constraints(db: Kysely<any>, schema: string): Promise<string[]> {
  const { rows } = await sql<{ t: string; type: string; def: string }>`
    SELECT c.conrelid::regclass::text AS t, c.contype AS type, pg_get_constraintdef(c.oid) AS def
      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
     WHERE n.nspname = ${schema} AND c.contype IN ('p', 'c')`.execute(db);
  return rows.map((r) => `${r.t.replace(`${schema}.`, '')} ${r.type} ${r.def}`).sort();
}

describe('attestor schema', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
    const ddl = readFileSync(join(__dirname, 'spec-ddl.sql'), 'utf8').replaceAll('attestor.', 'spec_ref.');
    await sql`CREATE SCHEMA spec_ref`.execute(t.db);
    await sql.raw(ddl).execute(t.db);
  });
  afterAll(() => t.drop());

  test('every column of the spec DDL exists with the same type, nullability and default', async () => {
    const spec = await columns(t.db, 'spec_ref');
    const live = await columns(t.db, 'attestor');
    expect(spec.size).toBe(11);
    for (const [key, col] of spec) {
      expect({ key, ...live.get(key) }).toEqual({ key, ...col });
    }
  });

  test("the spec's primary keys and CHECK constraints are there", async () => {
    const spec = await constraints(t.db, 'spec_ref');
    const live = await constraints(t.db, 'attestor');
    expect(spec).toHaveLength(3);
    for (const c of spec) expect(live).toContain(c);
  });

  test("the tables are the spec's two plus receipts, envelopes, rejections and parked jobs", async () => {
    const { rows } = await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'attestor' ORDER BY 1`.execute(
      t.db,
    );
    expect(rows.map((r) => r.table_name)).toEqual([
      'rekor_entries',
      'rekor_envelopes',
      'rekor_offline_queue',
      'rekor_parked',
      'rekor_quotas',
      'rekor_rejected',
    ]);
  });

  test('the drain and receipt look-ups have their indexes', async () => {
    const { rows } = await sql<{ indexdef: string }>`
      SELECT indexdef FROM pg_indexes WHERE schemaname = 'attestor'`.execute(t.db);
    const defs = rows.map((r) => r.indexdef);
    expect(defs).toContainEqual(expect.stringMatching(/rekor_offline_queue .*\(priority DESC, created_at\)/));
    expect(defs).toContainEqual(
      expect.stringMatching(/UNIQUE INDEX .*rekor_entries .*\(content_digest, log_url\)/),
    );
    expect(defs).toContainEqual(expect.stringMatching(/rekor_entries .*\(tenant_id, created_at DESC\)/));
  });

  test('the offline queue refuses a tier outside graph|edge', async () => {
    await expect(
      sql`INSERT INTO attestor.rekor_offline_queue (tenant_id, tier, payload, content_digest)
          VALUES (gen_random_uuid(), 'bogus', '\\x00', 'sha256:00')`.execute(t.db),
    ).rejects.toMatchObject({ code: '23514' });
  });

  test('migrating again applies nothing', async () => {
    const result = await migrateToLatest(t.db);
    expect(result.applied).toEqual([]);
    expect(result.all).toEqual(Object.keys(migrations));
  });

  test('concurrent migrations on an empty database apply each migration once', async () => {
    await sql`DROP SCHEMA attestor CASCADE`.execute(t.db);
    await sql`DROP TABLE rekor_budget_migration, rekor_budget_migration_lock`.execute(t.db);
    const results = await Promise.all([migrateToLatest(t.db), migrateToLatest(t.db), migrateToLatest(t.db)]);
    expect(results.flatMap((r) => r.applied)).toEqual(Object.keys(migrations));
  });
});

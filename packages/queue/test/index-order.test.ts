import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from '@rekor-budget/db';
import {
  contentPlaces,
  createReceiptStore,
  OfflineQueue,
  ParkingLot,
  type ContentPlace,
} from '@rekor-budget/queue';
import { createTestDatabase, type TestDatabase } from '@rekor-budget/testing';

const TENANT = '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b';
const ROWS = 20_000;
let t: TestDatabase;
let explained: Kysely<Database>;
/** The plans Postgres reported (auto_explain at NOTICE level), newest last. */
const plans: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  // one connection, so the session's auto_explain settings cover every query of the test
  const pool = new pg.Pool({ connectionString: t.url, max: 1, idleTimeoutMillis: 0 });
  pool.on('connect', (client) => client.on('notice', (n) => plans.push(n.message ?? '')));
  explained = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await sql`LOAD 'auto_explain'`.execute(explained);
  await sql`SET auto_explain.log_min_duration = 0`.execute(explained);
  await sql`SET auto_explain.log_level = 'notice'`.execute(explained);
  // the plans of the queries inside functions too
  await sql`SET auto_explain.log_nested_statements = on`.execute(explained);
  // Rows of one tier and one tenant, as an outage or one tenant's backlog leaves
  // them, in a table never analyzed since: the planner's default guesses hold.
  await sql`
    INSERT INTO attestor.rekor_offline_queue (tenant_id, tier, payload, content_digest, reason)
    SELECT ${TENANT}::uuid, 'graph', convert_to(repeat('x', 600), 'UTF8'),
           'sha256:' || md5(g::text) || md5((g + 1)::text), 'rekor_unreachable'
    FROM generate_series(1, ${ROWS}) g`.execute(t.db);
  await sql`
    INSERT INTO attestor.rekor_parked (tenant_id, tier, content_digest, payload, enqueued_at)
    SELECT ${TENANT}::uuid, 'graph', 'sha256:' || md5(g::text) || md5((g + 1)::text),
           convert_to('{"pad":"' || repeat('x', 600) || '"}', 'UTF8'), g
    FROM generate_series(1, ${ROWS}) g`.execute(t.db);
  await sql`
    INSERT INTO attestor.rekor_entries
      (tenant_id, tier, content_digest, rekor_uuid, log_index, integrated_time, log_id, log_url, bundle)
    SELECT ${TENANT}::uuid, 'graph', 'sha256:' || md5(g::text || 'r') || md5((g + 1)::text),
           md5(g::text), g, now(), 'log', 'http://log.example', '{}'::jsonb
    FROM generate_series(1, ${ROWS * 5}) g`.execute(t.db);
});

afterAll(async () => {
  await explained.destroy();
  await t.drop();
});

/** The plan of the one query of `tableName` since `from`. */
function planOf(tableName: string, from: number): string {
  const found = plans.slice(from).filter((p) => p.includes(tableName) && /limit/i.test(p));
  expect(found).toHaveLength(1);
  return found[0]!;
}

test("the drain's claim reads the drain index in order and sorts nothing, on a table never analyzed", async () => {
  const from = plans.length;
  const rows = await explained.transaction().execute((trx) =>
    new OfflineQueue(explained).claim(trx, 100, {
      tier: 'graph',
      reasons: ['rekor_unreachable'],
      exported: false,
    }),
  );
  expect(rows).toHaveLength(100);
  const plan = planOf('rekor_offline_queue', from);
  expect(plan).toContain('Index Scan using rekor_offline_queue_tier_drain_idx');
  expect(plan).not.toMatch(/\bSort\b/);
});

test("a parked lane's head reads the lane index in order and sorts nothing, on a table never analyzed", async () => {
  const from = plans.length;
  const head = await new ParkingLot(explained).head('graph', TENANT, 100);
  expect(head).toHaveLength(100);
  const plan = planOf('rekor_parked', from);
  expect(plan).toContain('Index Scan using rekor_parked_lane_idx');
  expect(plan).not.toMatch(/\bSort\b/);
});

test("the producer's content look-up probes every table by index, on tables never analyzed", async () => {
  const logged = (
    await sql<{ d: string }>`SELECT content_digest AS d FROM attestor.rekor_entries LIMIT 3`.execute(t.db)
  ).rows.map((r) => r.d);
  const offline = (
    await sql<{ d: string }>`SELECT content_digest AS d FROM attestor.rekor_offline_queue LIMIT 2`.execute(
      t.db,
    )
  ).rows.map((r) => r.d);
  const unknown = Array.from({ length: 495 }, (_, i) => `sha256:${String(i).padStart(64, '0')}`);
  const from = plans.length;
  const places = await contentPlaces(explained, [...logged, ...offline, ...unknown]);
  expect(places).toEqual(
    new Map([
      ...logged.map((d): [string, ContentPlace] => [d, 'logged']),
      ...offline.map((d): [string, ContentPlace] => [d, 'offline']),
    ]),
  );
  // the function's own plan (or, were it inlined, the outer one)
  const planned = plans.slice(from).join('\n');
  expect(planned).toContain('rekor_entries_content_log_key');
  expect(planned).not.toMatch(/Seq Scan on rekor_(entries|offline_queue|parked|rejected)/);
});

test('the newest receipts of all tenants, or the oldest, read the stored-order index and sort nothing', async () => {
  const store = createReceiptStore(explained);
  let from = plans.length;
  const newest = await store.list({ limit: 100 });
  // stored in one statement, so in one instant: the log index orders them (this
  // test's own pool reads BIGINT as text, hence Number)
  expect(newest.map((r) => Number(r.logIndex))).toEqual(Array.from({ length: 100 }, (_, i) => ROWS * 5 - i));
  let plan = planOf('rekor_entries', from);
  expect(plan).toContain('Index Scan Backward using rekor_entries_created_idx');
  expect(plan).not.toMatch(/\bSort\b|Seq Scan/);

  from = plans.length;
  const oldest = await store.list({ order: 'oldest', limit: 100 });
  expect(oldest.map((r) => Number(r.logIndex))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  plan = planOf('rekor_entries', from);
  expect(plan).toMatch(/Index Scan using rekor_entries_created_idx/);
  expect(plan).not.toMatch(/\bSort\b|Seq Scan/);
});

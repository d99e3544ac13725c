import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '@rekor-budget/testing';
import { createQuotaMirror, type QuotaMirror } from '@rekor-budget/budget';
import { tenant } from './helpers';

describe('createQuotaMirror', () => {
  let t: TestDatabase;
  let mirror: QuotaMirror;
  beforeAll(async () => {
    t = await createTestDatabase();
    mirror = createQuotaMirror(t.db);
  });
  afterAll(() => t.drop());

  const row = (id: string) =>
    t.db
      .selectFrom('attestor.rekor_quotas')
      .selectAll()
      .where('tenant_id', '=', id)
      .executeTakeFirstOrThrow();

  test('the first record inserts the row with the start of the hour and the UTC date', async () => {
    const id = tenant();
    await mirror.record(id, 'graph', new Date('2026-03-01T10:42:17.250Z'));
    expect(await row(id)).toEqual({
      tenant_id: id,
      hourly_count: 1,
      daily_bundle_count: 0,
      last_reset_hour: new Date('2026-03-01T10:00:00Z'),
      last_reset_day: '2026-03-01',
    });
  });

  test('the hourly count restarts when the clock hour changes; the daily count keeps going', async () => {
    const id = tenant();
    await mirror.record(id, 'graph', new Date('2026-03-01T10:00:00.000Z'));
    await mirror.record(id, 'graph', new Date('2026-03-01T10:59:59.999Z'));
    await mirror.record(id, 'edge', new Date('2026-03-01T10:30:00Z'));
    expect(await mirror.get(id, new Date('2026-03-01T10:59:59.999Z'))).toMatchObject({
      hourlyCount: 2,
      dailyBundleCount: 1,
    });
    await mirror.record(id, 'graph', new Date('2026-03-01T11:00:00.000Z'));
    expect(await row(id)).toMatchObject({ hourly_count: 1, daily_bundle_count: 1 });
    expect((await row(id)).last_reset_hour).toEqual(new Date('2026-03-01T11:00:00Z'));
    // An edge record in a later hour restarts the hourly count at 0.
    await mirror.record(id, 'edge', new Date('2026-03-01T12:05:00Z'));
    expect(await row(id)).toMatchObject({ hourly_count: 0, daily_bundle_count: 2 });
  });

  test('the daily bundle count restarts when the UTC date changes, whatever the session time zone', async () => {
    const id = tenant();
    await t.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL TIME ZONE 'Pacific/Kiritimati'`.execute(trx);
      const m = createQuotaMirror(trx);
      await m.record(id, 'edge', new Date('2026-03-01T23:59:59.999Z'));
      await m.record(id, 'edge', new Date('2026-03-01T23:10:00Z'));
      await m.record(id, 'graph', new Date('2026-03-01T23:10:00Z'));
    });
    expect(await row(id)).toMatchObject({
      daily_bundle_count: 2,
      hourly_count: 1,
      last_reset_day: '2026-03-01',
    });
    await mirror.record(id, 'edge', new Date('2026-03-02T00:00:00.000Z'));
    expect(await row(id)).toMatchObject({
      daily_bundle_count: 1,
      last_reset_day: '2026-03-02',
      hourly_count: 0,
    });
    expect(await mirror.get(id, new Date('2026-03-02T18:00:00Z'))).toMatchObject({
      hourlyCount: 0,
      dailyBundleCount: 1,
      day: '2026-03-02',
    });
    expect(await mirror.get(id, new Date('2026-03-03T00:00:00Z'))).toMatchObject({ dailyBundleCount: 0 });
  });

  test('a late record for an earlier hour or day changes no current count', async () => {
    const id = tenant();
    await mirror.record(id, 'graph', new Date('2026-03-02T10:15:00Z'));
    await mirror.record(id, 'edge', new Date('2026-03-02T10:15:00Z'));
    await mirror.record(id, 'graph', new Date('2026-03-02T09:59:00Z'));
    await mirror.record(id, 'edge', new Date('2026-03-01T23:59:00Z'));
    expect(await row(id)).toMatchObject({
      hourly_count: 1,
      daily_bundle_count: 1,
      last_reset_hour: new Date('2026-03-02T10:00:00Z'),
      last_reset_day: '2026-03-02',
    });
  });

  test('50 parallel records (and a rollover in the middle) give exact counts', async () => {
    const id = tenant();
    const at = new Date('2026-03-05T08:30:00Z');
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => mirror.record(id, i % 5 === 0 ? 'edge' : 'graph', at)),
    );
    expect(await mirror.get(id, at)).toMatchObject({ hourlyCount: 40, dailyBundleCount: 10 });

    const next = new Date('2026-03-05T09:00:00Z');
    await Promise.all(Array.from({ length: 50 }, (_, i) => mirror.record(id, 'graph', i < 25 ? at : next)));
    // The first record of the new hour restarts the count; later ones add to it; records of
    // the past hour that arrive after the rollover change nothing.
    expect(await mirror.get(id, next)).toMatchObject({ hourlyCount: 25, dailyBundleCount: 10 });
  });

  test('parallel records from many tenants', async () => {
    const ids = Array.from({ length: 10 }, tenant);
    const at = new Date('2026-03-06T00:00:00Z');
    await Promise.all(ids.flatMap((id) => Array.from({ length: 5 }, () => mirror.record(id, 'graph', at))));
    for (const id of ids) expect((await mirror.get(id, at)).hourlyCount).toBe(5);
  });

  test('get reports zeros for an unknown tenant; bad input has typed errors', async () => {
    expect(await mirror.get(tenant(), new Date('2026-03-01T00:00:00Z'))).toEqual({
      hourlyCount: 0,
      dailyBundleCount: 0,
      hour: new Date('2026-03-01T00:00:00Z'),
      day: '2026-03-01',
    });
    await expect(mirror.record('nope', 'graph', new Date())).rejects.toMatchObject({
      code: 'INVALID_TENANT',
    });
    await expect(mirror.record(tenant(), 'x' as 'graph', new Date())).rejects.toMatchObject({
      code: 'INVALID_TIER',
    });
    await expect(mirror.record(tenant(), 'graph', new Date(NaN))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});

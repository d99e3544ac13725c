import { sql } from 'kysely';
import { createDb } from '@rekor-budget/db';
import { startPrivatePostgres, waitFor, type PrivatePostgres } from '@rekor-budget/testing';

jest.setTimeout(60_000);

let pg: PrivatePostgres;
beforeAll(async () => {
  pg = await startPrivatePostgres();
});
afterAll(async () => {
  await pg.destroy();
});

test('Postgres stopping under a checked-out connection is reported, not an uncaught error; the pool recovers', async () => {
  const lost: string[] = [];
  const logger = {
    error: () => undefined,
    info: () => undefined,
    debug: () => undefined,
    warn: (obj: object | string, msg?: string) => void lost.push(typeof obj === 'string' ? obj : (msg ?? '')),
    child() {
      return logger;
    },
  };
  const db = createDb({ url: pg.url, max: 2, logger });
  try {
    // a transaction holds its connection between statements: that is when a
    // lost server used to reach the client as an unhandled 'error' event
    const held = db.transaction().execute(async (trx) => {
      await sql`SELECT 1`.execute(trx);
      await pg.stop();
      await waitFor(() => lost.length > 0, 20_000, 'the lost connection to be reported');
      await sql`SELECT 1`.execute(trx);
    });
    await expect(held).rejects.toThrow();
    expect(lost[0]).toMatch(/connection was lost/);
    await pg.start();
    await waitFor(
      async () =>
        await sql<{ one: number }>`SELECT 1 AS one`.execute(db).then(
          () => true,
          () => false,
        ),
      20_000,
      'the pool to reconnect',
    );
  } finally {
    await db.destroy();
  }
});

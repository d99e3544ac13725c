import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { createRedisKeys, type Tier } from '@rekor-budget/core';
import { createTestRedis, deleteKeys, redisUrl, uniquePrefix } from '@rekor-budget/testing';
import { createBudget } from '@rekor-budget/budget';
import { limits, tenant } from './helpers';

/** Many clients, each on its own Redis connection, and several OS processes, on one tenant's budget. */

const CLIENTS = 10;

describe('budget under concurrency', () => {
  let admin: Redis;
  let clients: Redis[];
  const prefixes: string[] = [];
  beforeAll(() => {
    admin = createTestRedis();
    clients = Array.from({ length: CLIENTS }, () => createTestRedis());
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(admin, p);
    await Promise.all([admin, ...clients].map((c) => c.quit()));
  });

  test(`${CLIENTS} clients on separate connections admit exactly the cap; other tenants are unaffected`, async () => {
    const prefix = uniquePrefix('conc');
    prefixes.push(prefix);
    const keys = createRedisKeys(prefix);
    const budgets = clients.map((redis) => createBudget({ redis, keys, limits: limits() }));
    const [hot, quiet] = [tenant(), tenant()];
    const count = { graph: 0, edge: 0, quiet: 0 };
    const ids = new Set<string>();

    await Promise.all(
      budgets.flatMap((b, c) =>
        Array.from({ length: 60 }, async (_, i) => {
          const tier: Tier = i % 2 === 0 ? 'graph' : 'edge';
          const d = await b.tryConsume(hot, tier);
          if (d.admitted) {
            count[tier]++;
            ids.add(`${tier}:${d.unitId}`);
          }
          if (c === 0 && i < 20 && (await b.tryConsume(quiet, 'graph')).admitted) count.quiet++;
        }),
      ),
    );

    expect(count).toEqual({ graph: 33, edge: 50, quiet: 20 });
    expect(ids.size).toBe(83);
    expect(await admin.zcard(keys.budgetUnits(hot, 'graph'))).toBe(33);
    expect(await admin.zcard(keys.budgetUnits(hot, 'edge'))).toBe(50);
    expect((await budgets[1]!.peek(quiet, 'graph')).remaining).toEqual({ hour: 80, burst: 13 });
  });

  test('several OS processes hammering one tenant admit exactly the cap', async () => {
    const prefix = uniquePrefix('proc');
    prefixes.push(prefix);
    const keys = createRedisKeys(prefix);
    const hot = tenant();
    const other = tenant();
    const fixture = join(__dirname, 'fixtures', 'hammer.ts');
    const register = require.resolve('@swc-node/register');
    const run = (t: string, tier: Tier, requests: number) =>
      new Promise<{ admitted: number; refused: number; unitIds: string[] }>((resolve, reject) => {
        execFile(
          process.execPath,
          ['-r', register, fixture, redisUrl(), prefix, t, tier, String(requests), '4'],
          { timeout: 60_000 },
          (err, stdout, stderr) =>
            err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
        );
      });

    const results = await Promise.all([
      ...Array.from({ length: 4 }, () => run(hot, 'graph', 40)),
      ...Array.from({ length: 2 }, () => run(hot, 'edge', 40)),
      run(other, 'graph', 10),
    ]);
    const graph = results.slice(0, 4);
    const edge = results.slice(4, 6);
    expect(graph.reduce((n, r) => n + r.admitted, 0)).toBe(33);
    expect(graph.reduce((n, r) => n + r.refused, 0)).toBe(160 - 33);
    expect(new Set(graph.flatMap((r) => r.unitIds)).size).toBe(33);
    expect(edge.reduce((n, r) => n + r.admitted, 0)).toBe(50);
    expect(results[6]!.admitted).toBe(10);
    expect(await admin.zcard(keys.budgetUnits(hot, 'graph'))).toBe(33);
    expect(await admin.zcard(keys.budgetUnits(other, 'graph'))).toBe(10);
  });
});

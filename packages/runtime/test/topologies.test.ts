import { randomUUID } from 'node:crypto';
import { Redis, type Cluster } from 'ioredis';
import { createRuntime, requireDurableRedis, type Runtime } from '@rekor-budget/runtime';
import {
  createTestDatabase,
  startPrivateCluster,
  startPrivateSentinel,
  testConfig,
  uniquePrefix,
  type PrivateCluster,
  type PrivateSentinel,
  type TestDatabase,
} from '@rekor-budget/testing';

/** The runtime on a Redis Cluster and on Sentinel: durability on every master, budgets through a failover. */
jest.setTimeout(120_000);

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

/** How a call was refused: its error code. */
async function refusal(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

describe('on a Redis Cluster of three masters', () => {
  let cluster: PrivateCluster;
  let runtime: Runtime | undefined;
  beforeAll(async () => {
    cluster = await startPrivateCluster();
  });
  afterAll(async () => {
    await runtime?.close();
    await cluster.destroy();
  });

  test('starts durable, then refuses the cluster once one master runs without AOF (REDIS_NOT_DURABLE)', async () => {
    const config = testConfig({
      prefix: uniquePrefix('rt-cluster'),
      databaseUrl: t.url,
      redis: { cluster: { nodes: cluster.nodes } },
    });
    expect(config.redis.topology).toBe('cluster');
    runtime = await createRuntime({ config, name: 'rekor-budget-test', requireDurableRedis: true });
    // budget decisions of many tenants land on every master
    const tenants = Array.from({ length: 24 }, () => randomUUID());
    for (const tenant of tenants)
      expect((await runtime.budget.tryConsume(tenant, 'graph')).admitted).toBe(true);
    const owners = new Set<number>();
    for (const node of (runtime.redis as Cluster).nodes('master')) {
      if ((await node.dbsize()) > 0) owners.add(node.options.port!);
    }
    expect(owners.size).toBe(3);

    const [host, port] = cluster.nodes[1]!.split(':');
    const one = new Redis(Number(port), host!);
    try {
      await one.config('SET', 'appendonly', 'no');
      expect(await refusal(requireDurableRedis(config, runtime.redis))).toBe('REDIS_NOT_DURABLE');
    } finally {
      await one.config('SET', 'appendonly', 'yes');
      await one.quit();
    }
    await expect(requireDurableRedis(config, runtime.redis)).resolves.toBeUndefined();
  });
});

describe('on Redis Sentinel (master, replica, sentinel)', () => {
  let sentinel: PrivateSentinel;
  let runtime: Runtime | undefined;
  beforeAll(async () => {
    sentinel = await startPrivateSentinel();
  });
  afterAll(async () => {
    await runtime?.close();
    await sentinel.destroy();
  });

  test('budget units spent before a failover still count on the promoted replica', async () => {
    const config = testConfig({
      prefix: uniquePrefix('rt-sentinel'),
      databaseUrl: t.url,
      redis: { sentinel: { name: sentinel.name, nodes: sentinel.sentinels } },
      budget: { hourlyLimit: 3, burstLimit: 18 },
    });
    runtime = await createRuntime({ config, name: 'rekor-budget-test', requireDurableRedis: true });
    const tenant = randomUUID();
    for (let i = 0; i < 3; i++)
      expect((await runtime.budget.tryConsume(tenant, 'graph')).admitted).toBe(true);
    // acknowledged by the replica before the master dies
    expect(await (runtime.redis as Redis).wait(1, 5_000)).toBe(1);
    await sentinel.failover();
    const after = await runtime.budget.tryConsume(tenant, 'graph');
    expect(after.admitted).toBe(false);
    expect((await runtime.budget.peek(tenant, 'graph')).remaining.hour).toBe(0);
    // the durability check asks the master the sentinel names now
    await expect(requireDurableRedis(config, runtime.redis)).resolves.toBeUndefined();
  });
});

import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createBudget } from '@rekor-budget/budget';
import {
  createRedisConnection,
  createRedisKeys,
  parseConfigObject,
  redisEnv,
  type RedisConnection,
} from '@rekor-budget/core';
import { createRekorProducer } from '@rekor-budget/producer';
import {
  createTestDatabase,
  freePort,
  graphInput,
  startPrivateCluster,
  uniquePrefix,
  type PrivateCluster,
  type TestDatabase,
} from '@rekor-budget/testing';
import { runCli } from './helpers';

/** The operator commands against a Redis Cluster of three masters, through the built binary. */
jest.setTimeout(60_000);

const dir = mkdtempSync(join(tmpdir(), 'rb-cluster-cli-'));
const TENANT = randomUUID();
/** A tenant whose burst window is full, with two submissions parked behind it. */
const PARKED = randomUUID();
const prefix = uniquePrefix('cluster-cli');
let cluster: PrivateCluster;
let t: TestDatabase;
let redis: RedisConnection | undefined;

/** Nothing of the developer's environment: only what the test names. */
function env(more: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    REDIS_URL: undefined,
    REDIS_PREFIX: undefined,
    REDIS_CLUSTER_NODES: undefined,
    REDIS_SENTINEL_NAME: undefined,
    REDIS_SENTINEL_NODES: undefined,
    DATABASE_URL: undefined,
    REKOR_URL: undefined,
    SIGNING_KEY: undefined,
    METRICS_PORT: undefined,
    ...more,
  };
}

/** `attestor.rekor` naming `nodes` as the cluster, this file's prefix and database. */
function rekorSection(nodes: string[]) {
  return {
    serverUrl: 'http://127.0.0.1:1',
    redis: { cluster: { nodes }, keyPrefix: prefix },
    database: { url: t.url },
  };
}

function configFile(name: string, nodes: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, stringify({ attestor: { rekor: rekorSection(nodes) } }));
  return file;
}

beforeAll(async () => {
  [cluster, t] = await Promise.all([startPrivateCluster(), createTestDatabase()]);
  // one unit of the tenant's budget spent on the cluster, as a worker would
  const config = parseConfigObject({ attestor: { rekor: rekorSection(cluster.nodes) } }, { source: 'test' });
  redis = createRedisConnection(config.redis);
  const budget = createBudget({
    redis,
    keys: createRedisKeys(prefix, { topology: 'cluster' }),
    limits: config.budget,
  });
  expect((await budget.tryConsume(TENANT, 'graph')).admitted).toBe(true);
  // the scheduler's lanes and tallies on the cluster, as the producer writes them:
  // one submission of TENANT queued on a held unit, two of PARKED parked
  for (let i = 0; i < config.budget.burstWindowLimit; i++)
    expect((await budget.tryConsume(PARKED, 'graph')).admitted).toBe(true);
  const producer = createRekorProducer({ config, redis, db: t.db, budget });
  try {
    expect(await producer.submitGraphAttestation(graphInput(TENANT, 'queued'))).toMatchObject({
      status: 'queued',
    });
    for (const name of ['parked-1', 'parked-2']) {
      expect(await producer.submitGraphAttestation(graphInput(PARKED, name))).toMatchObject({
        status: 'queued',
        parked: true,
      });
    }
  } finally {
    await producer.close();
  }
}, 120_000);
afterAll(async () => {
  await redis?.quit();
  await cluster?.destroy();
  await t?.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('status on a cluster: exit 0, the queues, the tenant whose unit was spent on one of its masters and its queued job, and a tenant parked behind its full window', async () => {
  const file = configFile('cluster.yaml', cluster.nodes);
  const r = await runCli(['status', '--config', file], { env: env(), cwd: dir });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^queues\s+waiting\s+active/m);
  expect(r.stdout).toMatch(/^ {2}graph +1 +0 +0 +0 +0 +0 +0$/m);
  expect(r.stdout).toMatch(
    new RegExp(`^  ${TENANT} graph .* 1/100 .*next free: now +queued 1 +parked 0 +next release: -$`, 'm'),
  );
  expect(r.stdout).toMatch(
    new RegExp(`^  ${PARKED} graph .* 33/33 .*next free: in .* +queued 0 +parked 2 +next release: [^-]`, 'm'),
  );

  const json = await runCli(['status', '--json', '--config', file], { env: env(), cwd: dir });
  expect(json.code).toBe(0);
  const report = JSON.parse(json.stdout) as { queues: Record<string, unknown>; tenants: unknown[] };
  expect(Object.keys(report.queues).sort()).toEqual(['edge', 'graph']);
  expect(report.tenants).toHaveLength(2);
  expect(report.tenants).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ tenantId: TENANT, tier: 'graph', queued: 1, parked: 0, nextReleaseAt: null }),
      expect.objectContaining({ tenantId: PARKED, tier: 'graph', queued: 0, parked: 2 }),
    ]),
  );
});

test('a cluster that does not answer: one line naming the nodes and the fix (exit 1)', async () => {
  const dead = [`127.0.0.1:${await freePort()}`];
  const r = await runCli(['status', '--config', configFile('dead.yaml', dead)], { env: env(), cwd: dir });
  expect(r.code).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(dead[0]);
  expect(lines[0]).toContain('REDIS_CLUSTER_NODES');
  expect(lines[0]).toContain('[SERVICE_UNAVAILABLE]');
  expect(r.stdout).toBe('');
});

test('the run env start writes names the cluster: status beside it, without --config, reaches it', async () => {
  const config = parseConfigObject({ attestor: { rekor: rekorSection(cluster.nodes) } }, { source: 'test' });
  const vars: Record<string, string | undefined> = {
    ...redisEnv(config.redis),
    REDIS_PREFIX: prefix,
    DATABASE_URL: t.url,
  };
  expect(vars.REDIS_CLUSTER_NODES).toBe(cluster.nodes.join(','));
  expect(vars).not.toHaveProperty('REDIS_URL');
  const cwd = join(dir, 'beside-start');
  mkdirSync(join(cwd, '.rekor-budget'), { recursive: true });
  writeFileSync(
    join(cwd, '.rekor-budget', 'env'),
    Object.entries(vars)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  const r = await runCli(['status', '--json'], { env: env({ REKOR_URL: 'http://127.0.0.1:1' }), cwd });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect((JSON.parse(r.stdout) as { tenants: unknown[] }).tenants).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ tenantId: TENANT, tier: 'graph' }),
      expect.objectContaining({ tenantId: PARKED, tier: 'graph' }),
    ]),
  );
});

import { createRedisKeys, InputError } from '@rekor-budget/core';

const TENANT = '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b';

/** The part of a key Redis Cluster hashes: the first non-empty {...}. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

describe('createRedisKeys', () => {
  const keys = createRedisKeys('rb');

  test("all of a tenant's budget keys hash to the tenant's slot", () => {
    const tags = (['hour', 'burst', 'day'] as const).map((w) => hashTag(keys.budgetWindow(TENANT, w)));
    expect(new Set(tags)).toEqual(new Set([TENANT]));
  });

  test('tenant ids are normalized to lower case', () => {
    expect(keys.budgetWindow(TENANT.toUpperCase(), 'hour')).toBe(keys.budgetWindow(TENANT, 'hour'));
  });

  test('keys carry the configured prefix, and BullMQ keys their own hash tag', () => {
    expect(keys.budgetWindow(TENANT, 'day')).toBe(`rb:budget:{${TENANT}}:day`);
    expect(keys.queuePrefix('graph')).toBe('{rb}');
    expect(keys.queuePrefix('edge')).toBe('{rb}');
    expect(keys.queueName('graph')).toBe('rekor-graph');
    expect(keys.queueName('edge')).toBe('rekor-edge');
  });

  test('in a cluster each tier queue has a hash tag of its own; single and Sentinel keep the shared one', () => {
    const cluster = createRedisKeys('rb', { topology: 'cluster' });
    expect(cluster.queuePrefix('graph')).toBe('{rb:graph}');
    expect(cluster.queuePrefix('edge')).toBe('{rb:edge}');
    expect(hashTag(`${cluster.queuePrefix('graph')}:rekor-graph:wait`)).not.toBe(
      hashTag(`${cluster.queuePrefix('edge')}:rekor-edge:wait`),
    );
    expect(createRedisKeys('rb', { topology: 'sentinel' }).queuePrefix('graph')).toBe('{rb}');
    // the budget keys do not depend on the topology
    expect(cluster.budgetWindow(TENANT, 'hour')).toBe(keys.budgetWindow(TENANT, 'hour'));
  });

  test("a tier's scheduler keys share one slot, the tier queue's in a cluster; the two tiers differ", () => {
    const cluster = createRedisKeys('rb', { topology: 'cluster' });
    for (const tier of ['graph', 'edge'] as const) {
      const tags = [
        cluster.schedulerLanes(tier),
        cluster.schedulerTally(tier),
        cluster.schedulerLeader(tier),
        cluster.schedulerSignal(tier),
      ].map(hashTag);
      expect(new Set(tags)).toEqual(new Set([hashTag(`${cluster.queuePrefix(tier)}:rekor-${tier}:wait`)]));
    }
    expect(hashTag(cluster.schedulerLanes('graph'))).not.toBe(hashTag(cluster.schedulerLanes('edge')));
    // the budget keys of a tenant stay in the tenant's slot
    expect(hashTag(cluster.budgetUnits(TENANT, 'graph'))).toBe(TENANT);
    expect(hashTag(cluster.budgetHolds(TENANT, 'graph'))).toBe(TENANT);
  });

  test('the scan patterns match every key of every layout under the prefix, and none of another prefix', () => {
    const cluster = createRedisKeys('rb', { topology: 'cluster' });
    const glob = (p: string) => new RegExp(`^${p.replace(/[{}.]/g, '\\$&').replace(/\*/g, '.*')}$`);
    const matches = (key: string) => cluster.scanPatterns.some((p) => glob(p).test(key));
    for (const key of [
      keys.budgetWindow(TENANT, 'hour'),
      keys.activeTenants,
      keys.inflight('sha256:ab'),
      keys.schedulerLanes('graph'),
      cluster.schedulerTally('edge'),
      cluster.schedulerSignal('graph'),
      `${keys.queuePrefix('graph')}:rekor-graph:wait`,
      `${cluster.queuePrefix('edge')}:rekor-edge:wait`,
    ]) {
      expect(matches(key)).toBe(true);
    }
    expect(matches('rbx:budget:{x}:hour')).toBe(false);
    expect(matches('{rbx}:rekor-graph:wait')).toBe(false);
    expect(matches('{rb-other:graph}:rekor-graph:wait')).toBe(false);
  });

  test.each(['not-a-uuid', '', `${TENANT}}`, '*'])('tenant %j is refused before it touches a key', (bad) => {
    expect(() => keys.budgetWindow(bad, 'hour')).toThrow(InputError);
    try {
      keys.budgetWindow(bad, 'hour');
    } catch (e) {
      expect((e as InputError).code).toBe('INVALID_TENANT');
    }
  });

  test.each(['', 'a{b}', 'has space', 'x'.repeat(65)])('prefix %j is refused', (bad) => {
    expect(() => createRedisKeys(bad)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

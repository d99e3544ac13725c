import { ConfigError, parseConfigObject, parseConfigText, toFileConfig } from '@rekor-budget/core';

/** Issue 16: the configuration printed back in the file's own keys, tenant names, and the new overrides. */
const TENANT = '6f1d3c2a-0b4e-4f5a-9c8d-7e6f5a4b3c2d';

describe('toFileConfig', () => {
  test('gives back a valid attestor.rekor section that loads to the same configuration', () => {
    const config = parseConfigText(
      [
        'attestor:',
        '  rekor:',
        '    tier: with-edges',
        '    budget: { hourlyLimit: 50, burstLimit: 120, burstWindow: "00:05:00", edgeBundleDailyLimit: 20 }',
        '    retry: { initialDelay: "00:00:02", maxDelay: "1.00:00:00", backoffMultiplier: 1.5 }',
        '    offline: { probeInterval: "00:00:01.500" }',
        '    edgeBundles: { triggers: [{ cvssThreshold: 7.5 }, { manualEscalation: true }] }',
        '    pace: { max: 10, window: "00:00:02" }',
        '    signing: { keyPath: /keys/k.pem }',
        '    dashboard: { user: a, password: b }',
        `    tenants: { ${TENANT.toUpperCase()}: acme }`,
        '    v2WriteTimeout: "00:00:45"',
        '    trustedRoot: https://example.org/trusted_root.json',
        '    signingConfig: https://example.org/signing_config.json',
        '    timestampAuthority: { url: https://tsa.example/api/v1/timestamp }',
      ].join('\n'),
      { source: 'test' },
    );
    const file = toFileConfig(config);
    expect(file).toMatchObject({
      budget: { burstWindow: '00:05:00', edgeBundleDailyLimit: 20 },
      retry: { initialDelay: '00:00:02', maxDelay: '1.00:00:00' },
      offline: { probeInterval: '00:00:01.500' },
      edgeBundles: { triggers: [{ cvssThreshold: 7.5 }, { manualEscalation: true }] },
      tenants: { [TENANT]: 'acme' },
      v2WriteTimeout: '00:00:45',
      trustedRoot: 'https://example.org/trusted_root.json',
      signingConfig: 'https://example.org/signing_config.json',
      timestampAuthority: { url: 'https://tsa.example/api/v1/timestamp' },
    });
    expect(JSON.stringify(file)).not.toMatch(/Ms"|burstWindowLimit/);
    expect(parseConfigObject({ attestor: { rekor: file } }, { source: 'printed' })).toEqual(config);
  });
});

describe('tenants', () => {
  test('a key that is not a UUID is refused with its path and the fix', () => {
    try {
      parseConfigObject({ attestor: { rekor: { tenants: { acme: 'acme' } } } }, { source: 'test' });
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).issues.map((i) => i.path)).toEqual(['attestor.rekor.tenants.acme']);
      expect((e as ConfigError).message).toContain("key each name by the tenant's UUID");
    }
  });

  test('one tenant named twice (its UUID in two cases) is refused, naming both keys', () => {
    try {
      parseConfigObject(
        { attestor: { rekor: { tenants: { [TENANT]: 'acme', [TENANT.toUpperCase()]: 'other' } } } },
        { source: 'test' },
      );
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).issues.map((i) => i.path)).toEqual([
        `attestor.rekor.tenants.${TENANT.toUpperCase()}`,
      ]);
      expect((e as ConfigError).message).toContain(`is the tenant ${TENANT} again`);
    }
  });

  test('names are kept by the lower-case UUID; none configured is an empty map', () => {
    expect(
      parseConfigObject(
        { attestor: { rekor: { tenants: { [TENANT.toUpperCase()]: 'acme' } } } },
        { source: 't' },
      ).tenants,
    ).toEqual({ [TENANT]: 'acme' });
    expect(parseConfigObject({}, { source: 't' }).tenants).toEqual({});
  });
});

describe('environment overrides', () => {
  test('REDIS_PREFIX, DASHBOARD_PORT and METRICS_PORT set their keys; a port that is not one is refused', () => {
    const c = parseConfigObject(
      {},
      { source: 't', env: { REDIS_PREFIX: 'mine', DASHBOARD_PORT: '3100', METRICS_PORT: '9500' } },
    );
    expect([c.redis.keyPrefix, c.dashboard.port, c.metrics.port]).toEqual(['mine', 3100, 9500]);
    expect(() => parseConfigObject({}, { source: 't', env: { DASHBOARD_PORT: 'x' } })).toThrow(
      /attestor\.rekor\.dashboard\.port \(from DASHBOARD_PORT\): "x" is not a TCP port/,
    );
  });
});

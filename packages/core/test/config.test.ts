import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfigText, type ConfigIssue, type Env } from '@rekor-budget/core';

const ROOT = join(__dirname, '..', '..', '..');

/** The issues a configuration is refused with (fails the test if it is accepted). */
function issuesOf(yaml: string, env: Env = {}): ConfigIssue[] {
  try {
    parseConfigText(yaml, { source: 'test.yaml', env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).issues];
  }
  throw new Error('configuration was accepted');
}

/** Asserts exactly one issue, at `path`, whose message names the path and the value. */
function expectIssue(yaml: string, path: string, value: unknown, env: Env = {}): ConfigIssue {
  const issues = issuesOf(yaml, env);
  expect(issues.map((i) => i.path)).toEqual([path]);
  const issue = issues[0]!;
  expect(issue.value).toEqual(value);
  expect(issue.message.startsWith(`${path}`)).toBe(true);
  if (value !== undefined) expect(issue.message).toContain(JSON.stringify(value));
  // the fix: every message goes on to say what to do
  expect(issue.message).toMatch(/; \S/);
  return issue;
}

const rekor = (body: string) =>
  `attestor:\n  rekor:\n${body
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}\n`;

describe('configuration defaults', () => {
  test("an empty file gives the spec's values", () => {
    const c = parseConfigText('', { source: 'empty' });
    expect(c).toMatchObject({
      enabled: true,
      serverUrl: 'https://rekor.sigstore.dev',
      tier: 'graph-only',
      budget: {
        hourlyLimit: 100,
        burstLimit: 200,
        burstWindowMs: 600_000,
        burstWindowLimit: 33,
        edgeBundleDailyLimit: 50,
      },
      retry: { maxAttempts: 3, initialDelayMs: 5_000, maxDelayMs: 300_000, backoffMultiplier: 2.0 },
      offline: { queueEnabled: true, maxQueueSize: 10_000, drainOnConnect: true, airGapped: false },
      edgeBundles: {
        enabled: true,
        dailyLimit: 50,
        triggers: { cvssThreshold: 9.0, policyGate: 'require_proof', manualEscalation: true },
      },
      apiVersion: 1,
    });
  });

  test("attestor.example.yaml holds the spec's full schema and loads to the defaults", () => {
    const text = readFileSync(join(ROOT, 'attestor.example.yaml'), 'utf8');
    for (const key of [
      'enabled:',
      'serverUrl:',
      'tier:',
      'hourlyLimit:',
      'burstLimit:',
      'burstWindow:',
      'edgeBundleDailyLimit:',
      'maxAttempts:',
      'initialDelay:',
      'maxDelay:',
      'backoffMultiplier:',
      'queueEnabled:',
      'maxQueueSize:',
      'drainOnConnect:',
      'cvssThreshold:',
      'policyGate:',
      'manualEscalation:',
    ]) {
      expect(text).toContain(key);
    }
    expect(parseConfigText(text, { source: 'example' })).toEqual(parseConfigText('', { source: 'empty' }));
  });

  test("the spec's Tier 1 and Tier 2 snippets are accepted", () => {
    const c = parseConfigText(
      rekor(`enabled: true
tier: with-edges
budget:
  hourlyLimit: 100
  burstLimit: 200
  burstWindow: "00:10:00"
edgeBundles:
  enabled: true
  dailyLimit: 40
  triggers:
    - cvssThreshold: 9.0
    - policyGate: require_proof
    - manualEscalation: true`),
      { source: 't' },
    );
    expect(c.tier).toBe('with-edges');
    expect(c.budget.edgeBundleDailyLimit).toBe(40);
    expect(c.edgeBundles.dailyLimit).toBe(40);
  });

  test('d.hh:mm:ss durations are accepted', () => {
    const c = parseConfigText(rekor('retry:\n  maxDelay: "1.00:00:00"\n  initialDelay: "00:00:01"'), {
      source: 't',
    });
    expect(c.retry.maxDelayMs).toBe(86_400_000);
  });

  test('a trigger list without a trigger switches that trigger off', () => {
    const c = parseConfigText(rekor('edgeBundles:\n  triggers:\n    - manualEscalation: true'), {
      source: 't',
    });
    expect(c.edgeBundles.triggers).toEqual({ manualEscalation: true });
  });
});

describe('configuration rules (one test per rule)', () => {
  test('unknown keys are errors naming the nearest valid key', () => {
    const issue = expectIssue(rekor('budget:\n  hourlyLimt: 100'), 'attestor.rekor.budget.hourlyLimt', 100);
    expect(issue.message).toContain('"hourlyLimit"');
  });

  test('unknown keys at every level are errors', () => {
    expect(issuesOf('attestor:\n  rekr: {}').map((i) => i.path)).toEqual(['attestor.rekr']);
    expect(issuesOf('atestor: {}').map((i) => i.path)).toEqual(['atestor']);
    expect(issuesOf(rekor('serverURL: "https://x"'))[0]!.message).toContain('"serverUrl"');
    expect(issuesOf(rekor('edgeBundles:\n  triggers:\n    - cvss: 9'))[0]!.path).toBe(
      'attestor.rekor.edgeBundles.triggers[0].cvss',
    );
  });

  test('a duration that is not hh:mm:ss is an error', () => {
    const issue = expectIssue(
      rekor('budget:\n  burstWindow: "10 minutes"'),
      'attestor.rekor.budget.burstWindow',
      '10 minutes',
    );
    expect(issue.message).toBe(
      'attestor.rekor.budget.burstWindow: "10 minutes" is not a duration; use hh:mm:ss, e.g. "00:10:00"',
    );
  });

  test.each([
    ['hourlyLimit', '0'],
    ['hourlyLimit', '-5'],
    ['hourlyLimit', '1.5'],
    ['hourlyLimit', '"100"'],
    ['edgeBundleDailyLimit', '0'],
  ])('budget.%s: %s is not a positive whole number', (key, value) => {
    expectIssue(
      rekor(`budget:\n  ${key}: ${value}\n  burstLimit: 1000`),
      `attestor.rekor.budget.${key}`,
      JSON.parse(value),
    );
  });

  test('offline.maxQueueSize and edgeBundles.dailyLimit must be positive whole numbers', () => {
    expectIssue(rekor('offline:\n  maxQueueSize: 0'), 'attestor.rekor.offline.maxQueueSize', 0);
    expectIssue(rekor('edgeBundles:\n  dailyLimit: 2.5'), 'attestor.rekor.edgeBundles.dailyLimit', 2.5);
  });

  test('burstLimit below hourlyLimit is an error', () => {
    expectIssue(
      rekor('budget:\n  hourlyLimit: 100\n  burstLimit: 50'),
      'attestor.rekor.budget.burstLimit',
      50,
    );
  });

  test('a zero burst window is an error', () => {
    expectIssue(rekor('budget:\n  burstWindow: "00:00:00"'), 'attestor.rekor.budget.burstWindow', '00:00:00');
  });

  test('a burst window over one hour is an error', () => {
    expectIssue(rekor('budget:\n  burstWindow: "01:00:01"'), 'attestor.rekor.budget.burstWindow', '01:00:01');
  });

  test('a burst window that admits no submission is an error', () => {
    // floor(200 x 10 s / 3600 s) = 0
    expectIssue(rekor('budget:\n  burstWindow: "00:00:10"'), 'attestor.rekor.budget.burstWindow', '00:00:10');
    // floor(200 x 18 s / 3600 s) = 1 is fine
    expect(
      parseConfigText(rekor('budget:\n  burstWindow: "00:00:18"'), { source: 't' }).budget.burstWindowLimit,
    ).toBe(1);
  });

  test('maxAttempts must be at least 1', () => {
    expectIssue(rekor('retry:\n  maxAttempts: 0'), 'attestor.rekor.retry.maxAttempts', 0);
  });

  test('initialDelay longer than maxDelay is an error', () => {
    expectIssue(
      rekor('retry:\n  initialDelay: "00:10:00"\n  maxDelay: "00:05:00"'),
      'attestor.rekor.retry.initialDelay',
      '00:10:00',
    );
  });

  test('backoffMultiplier below 1 is an error', () => {
    expectIssue(rekor('retry:\n  backoffMultiplier: 0.5'), 'attestor.rekor.retry.backoffMultiplier', 0.5);
  });

  test.each(['-0.1', '10.5', '"high"'])('cvssThreshold %s outside 0..10 is an error', (v) => {
    expectIssue(
      rekor(`edgeBundles:\n  triggers:\n    - cvssThreshold: ${v}`),
      'attestor.rekor.edgeBundles.triggers[0].cvssThreshold',
      JSON.parse(v),
    );
  });

  test('a trigger item with two triggers, or an unknown policy gate, is an error', () => {
    expectIssue(
      rekor('edgeBundles:\n  triggers:\n    - cvssThreshold: 9.0\n      manualEscalation: true'),
      'attestor.rekor.edgeBundles.triggers[0]',
      { cvssThreshold: 9.0, manualEscalation: true },
    );
    expectIssue(
      rekor('edgeBundles:\n  triggers:\n    - policyGate: sometimes'),
      'attestor.rekor.edgeBundles.triggers[0].policyGate',
      'sometimes',
    );
  });

  test.each(['rekor.sigstore.dev', 'ftp://rekor.example', 'https://'])(
    'serverUrl %j is not an http(s) URL',
    (v) => {
      expectIssue(rekor(`serverUrl: "${v}"`), 'attestor.rekor.serverUrl', v);
    },
  );

  test('both daily limits set and different is an error; equal is fine', () => {
    expectIssue(
      rekor('budget:\n  edgeBundleDailyLimit: 40\nedgeBundles:\n  dailyLimit: 50'),
      'attestor.rekor.edgeBundles.dailyLimit',
      50,
    );
    const c = parseConfigText(rekor('budget:\n  edgeBundleDailyLimit: 40\nedgeBundles:\n  dailyLimit: 40'), {
      source: 't',
    });
    expect(c.budget.edgeBundleDailyLimit).toBe(40);
  });

  test('tier must be graph-only or with-edges', () => {
    expectIssue(rekor('tier: edges'), 'attestor.rekor.tier', 'edges');
  });

  test('apiVersion must be 1 or 2', () => {
    expectIssue(rekor('apiVersion: 3'), 'attestor.rekor.apiVersion', 3);
    expect(parseConfigText(rekor('apiVersion: 2'), { source: 't' }).apiVersion).toBe(2);
  });

  test('Rekor v2: a write timeout of at least 20 s; trustedRoot and signingConfig a file or an http(s) URL; the TSA an http(s) URL', () => {
    expectIssue(rekor('v2WriteTimeout: "00:00:10"'), 'attestor.rekor.v2WriteTimeout', '00:00:10');
    expectIssue(
      rekor('signingConfig: "ftp://example.org/sc.json"'),
      'attestor.rekor.signingConfig',
      'ftp://example.org/sc.json',
    );
    expectIssue(rekor('trustedRoot: ""'), 'attestor.rekor.trustedRoot', '');
    expect(issuesOf(rekor('timestampAuthority:\n  url: "timestamp.example"')).map((x) => x.path)).toEqual([
      'attestor.rekor.timestampAuthority.url',
    ]);
    const c = parseConfigText(
      rekor(
        'apiVersion: 2\nv2WriteTimeout: "00:00:25"\ntrustedRoot: /etc/rb/trusted_root.json\nsigningConfig: https://example.org/signing_config.json\ntimestampAuthority:\n  url: https://timestamp.sigstore.dev/api/v1/timestamp',
      ),
      { source: 't' },
    );
    expect(c).toMatchObject({
      v2WriteTimeoutMs: 25_000,
      trustedRoot: '/etc/rb/trusted_root.json',
      signingConfig: 'https://example.org/signing_config.json',
      timestampAuthority: { url: 'https://timestamp.sigstore.dev/api/v1/timestamp' },
    });
    expect(parseConfigText(rekor('apiVersion: 2'), { source: 't' }).v2WriteTimeoutMs).toBe(30_000);
  });

  test('redis and database URLs need their schemes; the key prefix no braces', () => {
    expectIssue(rekor('redis:\n  url: "http://localhost"'), 'attestor.rekor.redis.url', 'http://localhost');
    expectIssue(rekor('redis:\n  keyPrefix: "{x}"'), 'attestor.rekor.redis.keyPrefix', '{x}');
    expectIssue(rekor('database:\n  url: "mysql://x"'), 'attestor.rekor.database.url', 'mysql://x');
  });

  test('dashboard credentials come in pairs', () => {
    expectIssue(rekor('dashboard:\n  user: admin'), 'attestor.rekor.dashboard.password', undefined);
  });

  test('booleans must be booleans', () => {
    expectIssue(rekor('enabled: "yes"'), 'attestor.rekor.enabled', 'yes');
  });

  test('every problem is reported at once', () => {
    const issues = issuesOf(rekor('tier: x\nbudget:\n  hourlyLimit: 0\n  burstWindow: soon'));
    expect(issues.map((i) => i.path).sort()).toEqual([
      'attestor.rekor.budget.burstWindow',
      'attestor.rekor.budget.hourlyLimit',
      'attestor.rekor.tier',
    ]);
  });

  test('invalid YAML and duplicate keys are unreadable configurations', () => {
    for (const text of ['attestor: [', 'attestor:\n  rekor: {}\nattestor: {}']) {
      try {
        parseConfigText(text, { source: 't.yaml' });
        throw new Error('accepted');
      } catch (e) {
        expect(e).toMatchObject({ code: 'CONFIG_UNREADABLE' });
      }
    }
  });

  test('a document that is not a mapping is refused', () => {
    expect(() => parseConfigText('- a\n- b', { source: 't' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});

describe('environment overrides', () => {
  test('REDIS_URL, DATABASE_URL, REKOR_URL and SIGNING_KEY override the file', () => {
    const c = parseConfigText(
      rekor('serverUrl: "https://rekor.example"\nredis:\n  url: "redis://file:6379"'),
      {
        source: 't',
        env: {
          REDIS_URL: 'redis://env:6380',
          DATABASE_URL: 'postgres://u@db/x',
          REKOR_URL: 'http://127.0.0.1:3001/',
          SIGNING_KEY: '/keys/k.pem',
        },
      },
    );
    expect(c.redis).toMatchObject({ topology: 'single', url: 'redis://env:6380' });
    expect(c.database.url).toBe('postgres://u@db/x');
    expect(c.serverUrl).toBe('http://127.0.0.1:3001');
    expect(c.signing.keyPath).toBe('/keys/k.pem');
  });

  test('an override with a bad value names the variable', () => {
    const issue = expectIssue('', 'attestor.rekor.serverUrl', 'ftp://x', { REKOR_URL: 'ftp://x' });
    expect(issue.message).toContain('REKOR_URL');
  });

  test('an empty variable does not override', () => {
    expect(parseConfigText('', { source: 't', env: { REKOR_URL: '' } }).serverUrl).toBe(
      'https://rekor.sigstore.dev',
    );
  });
});

describe('redis topology: one server, a cluster or Sentinel', () => {
  const parse = (yaml: string, env: Env = {}) => parseConfigText(yaml, { source: 't', env });

  test('without any, one server at redis://127.0.0.1:6379', () => {
    expect(parse('').redis).toEqual({
      topology: 'single',
      url: 'redis://127.0.0.1:6379',
      keyPrefix: 'rekor-budget',
      requireDurable: true,
    });
  });

  test('redis.cluster.nodes: host:port and redis:// items, the default port 6379', () => {
    const c = parse(
      rekor('redis:\n  cluster:\n    nodes: ["10.0.0.1:7000", "redis://10.0.0.2:7001", "10.0.0.3"]'),
    );
    expect(c.redis).toMatchObject({
      topology: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '10.0.0.3', port: 6379 },
      ],
    });
  });

  test('REDIS_CLUSTER_NODES is a comma-separated list; credentials in the nodes are lifted', () => {
    const c = parse('', {
      REDIS_CLUSTER_NODES: 'redis://:s3cret@a:7000, redis://:s3cret@b:7001 ,[::1]:7002',
    });
    expect(c.redis).toMatchObject({
      topology: 'cluster',
      password: 's3cret',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    });
  });

  test('redis.sentinel and its environment: name, nodes (default port 26379), both passwords', () => {
    const c = parse('', {
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_NODES: 's1,s2:26380',
      REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
      REDIS_PASSWORD: 'data-pw',
    });
    expect(c.redis).toMatchObject({
      topology: 'sentinel',
      name: 'mymaster',
      nodes: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      sentinelPassword: 'sentinel-pw',
      password: 'data-pw',
    });
  });

  test('two topologies at once are refused, naming the variable that set one', () => {
    const issue = expectIssue(
      rekor('redis:\n  cluster:\n    nodes: ["a:7000"]'),
      'attestor.rekor.redis.url',
      'redis://x:6379',
      { REDIS_URL: 'redis://x:6379' },
    );
    expect(issue.message).toContain('REDIS_URL');
    expect(issue.message).toContain('exactly one of redis.url');
    expectIssue(
      rekor('redis:\n  cluster:\n    nodes: ["a:7000"]\n  sentinel:\n    name: m\n    nodes: ["s:26379"]'),
      'attestor.rekor.redis.sentinel.nodes',
      ['s:26379'],
    );
  });

  test('a bad node, an empty list, TLS nodes and a missing sentinel name are refused at their keys', () => {
    expectIssue(
      rekor('redis:\n  cluster:\n    nodes: ["a:7000", "http://b:1"]'),
      'attestor.rekor.redis.cluster.nodes[1]',
      'http://b:1',
    );
    const fromEnv = expectIssue('', 'attestor.rekor.redis.cluster.nodes[0]', 'a:notaport', {
      REDIS_CLUSTER_NODES: 'a:notaport',
    });
    expect(fromEnv.message).toContain('REDIS_CLUSTER_NODES');
    expectIssue(rekor('redis:\n  cluster:\n    nodes: []'), 'attestor.rekor.redis.cluster.nodes', []);
    expectIssue(
      rekor('redis:\n  cluster:\n    nodes: ["rediss://a:7000"]'),
      'attestor.rekor.redis.cluster.nodes[0]',
      'rediss://a:7000',
    );
    expectIssue(
      rekor('redis:\n  sentinel:\n    nodes: ["s:26379"]'),
      'attestor.rekor.redis.sentinel.name',
      undefined,
    );
  });

  test('passwords said twice and different are refused, and redacted', () => {
    const [issue, ...more] = issuesOf(
      rekor('redis:\n  password: pw-alpha\n  cluster:\n    nodes: ["redis://:pw-beta@a:7000"]'),
    );
    expect(more).toEqual([]);
    expect(issue).toMatchObject({ path: 'attestor.rekor.redis.password', value: '***' });
    expect(issue!.message).toMatch(/^attestor\.rekor\.redis\.password: \*\*\* differs .*; set/);
    expect(issue!.message).not.toMatch(/pw-/);
    expectIssue(
      rekor('redis:\n  cluster:\n    nodes: ["redis://:one@a:7000", "redis://:two@b:7000"]'),
      'attestor.rekor.redis.cluster.nodes',
      ['redis://***@a:7000', 'redis://***@b:7000'],
    );
  });

  test('a misspelled key under redis.sentinel gets a suggestion', () => {
    const [issue] = issuesOf(rekor('redis:\n  sentinel:\n    name: m\n    nodes: ["s"]\n    nodse: x'));
    expect(issue!.message).toContain('did you mean "nodes"');
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-config-'));

  test('without --config and without ./attestor.yaml, the defaults', () => {
    expect(loadConfig({ cwd: dir, env: {} }).source).toBe('defaults');
  });

  test('./attestor.yaml is read when present', () => {
    const d = mkdtempSync(join(tmpdir(), 'rb-config-'));
    writeFileSync(join(d, 'attestor.yaml'), rekor('budget:\n  hourlyLimit: 7\n  burstLimit: 70'));
    const { config, source } = loadConfig({ cwd: d, env: {} });
    expect(source).toBe(join(d, 'attestor.yaml'));
    expect(config.budget.hourlyLimit).toBe(7);
  });

  test('--config names the file, relative to the working directory', () => {
    writeFileSync(join(dir, 'other.yaml'), rekor('tier: with-edges'));
    expect(loadConfig({ cwd: dir, file: 'other.yaml', env: {} }).config.tier).toBe('with-edges');
  });

  test('a missing --config file is an error, not the defaults', () => {
    expect(() => loadConfig({ cwd: dir, file: 'nope.yaml', env: {} })).toThrow(
      expect.objectContaining({ code: 'CONFIG_UNREADABLE' }),
    );
  });
});

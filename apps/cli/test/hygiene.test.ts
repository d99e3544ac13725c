import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { databaseUrl, redisUrl } from '@rekor-budget/testing';
import { runCli } from './helpers';

/**
 * Issue 14, findings 6, 8 and 9, the CLI as a real process: durations that
 * would break timers, secrets in what is echoed, and errors that are one
 * clear line (exit 2 for configuration, exit 1 naming the service).
 */
const dir = mkdtempSync(join(tmpdir(), 'rb-hygiene-'));
const STACK = /\n\s+at /;
const SECRET = 'hunter2-s3cret';

function configFile(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `attestor:\n  rekor:\n${body.replace(/^/gm, '    ')}\n`);
  return file;
}

/** The environment of a run that must not reach the developer's own settings. */
const clean = {
  REDIS_URL: undefined,
  DATABASE_URL: undefined,
  REKOR_URL: undefined,
  SIGNING_KEY: undefined,
  DASHBOARD_USER: undefined,
  DASHBOARD_PASSWORD: undefined,
  METRICS_TOKEN: undefined,
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('finding 6: durations that would break timers are configuration errors', () => {
  test.each([
    ['offline:\n  probeInterval: "00:00:00"', 'attestor.rekor.offline.probeInterval', '"00:00:00"'],
    ['offline:\n  probeInterval: "00:00:00.500"', 'attestor.rekor.offline.probeInterval', '"00:00:00.500"'],
    ['offline:\n  probeInterval: "30.00:00:00"', 'attestor.rekor.offline.probeInterval', '"30.00:00:00"'],
    ['requestTimeout: "00:00:00"', 'attestor.rekor.requestTimeout', '"00:00:00"'],
    ['requestTimeout: "99999.00:00:00"', 'attestor.rekor.requestTimeout', '"99999.00:00:00"'],
    ['retry:\n  maxDelay: "25.00:00:00"', 'attestor.rekor.retry.maxDelay', '"25.00:00:00"'],
  ])('%j: exit 2, naming the key and the value', async (body, path, value) => {
    const r = await runCli(['config', 'check', '--config', configFile('durations.yaml', body)], {
      env: clean,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path}: ${value}`);
    expect(r.stderr).not.toMatch(STACK);
  });

  test('the bounds themselves are accepted', async () => {
    const body = 'offline:\n  probeInterval: "00:00:01"\nrequestTimeout: "24.00:00:00"';
    const r = await runCli(['config', 'check', '--config', configFile('bounds.yaml', body)], { env: clean });
    expect(r.code).toBe(0);
  });
});

describe('finding 8: secrets are never echoed', () => {
  test('config check shows every URL and secret redacted', async () => {
    const r = await runCli(['config', 'check', '--json'], {
      env: {
        ...clean,
        DATABASE_URL: `postgres://app:${SECRET}@db.internal:5432/rekor?sslpassword=${SECRET}`,
        REDIS_URL: `redis://default:${SECRET}@redis.internal:6379`,
        REKOR_URL: `https://ci:${SECRET}@rekor.internal`,
        DASHBOARD_USER: 'ops',
        DASHBOARD_PASSWORD: SECRET,
        METRICS_TOKEN: `${SECRET}-${SECRET}`,
      },
      cwd: dir,
    });
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    const { config } = JSON.parse(r.stdout) as {
      config: { serverUrl: string; database: { url: string }; metrics: { token: string } };
    };
    expect(config.database.url).toBe('postgres://***@db.internal:5432/rekor?sslpassword=***');
    expect(config.serverUrl).toBe('https://***@rekor.internal');
    expect(config.metrics.token).toBe('***');
  });

  test('configuration errors redact URLs, secret values and mistyped secret keys', async () => {
    const body = [
      'dashboard:',
      '  user: ops',
      `  pasword: ${SECRET}`,
      'metrics:',
      `  tokn: ${SECRET}`,
      `  password: 12345`,
      `  user: 12345`,
    ].join('\n');
    const r = await runCli(['config', 'check', '--config', configFile('secrets.yaml', body)], {
      env: { ...clean, REDIS_URL: `http://default:${SECRET}@redis.internal:6379` },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('attestor.rekor.dashboard.pasword: ***');
    expect(r.stderr).toContain('"http://***@redis.internal:6379"');
    expect(r.stderr).toContain('attestor.rekor.metrics.password: ***');
    expect(r.stderr).not.toContain(SECRET);
    expect(r.stderr).not.toMatch(/password: 12345/);
  });
});

describe('finding 9: errors are one clear line', () => {
  test('a YAML alias bomb is a configuration error (exit 2), without a stack', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 8; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const file = join(dir, 'bomb.yaml');
    writeFileSync(file, `${levels.join('\n')}\n`);
    const started = Date.now();
    const r = await runCli(['config', 'check', '--config', file], { env: clean });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^rekor-budget: invalid configuration/);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).not.toContain('ReferenceError');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  test('a huge value is echoed cut short', async () => {
    const scanId = 'x'.repeat(100_000);
    const r = await runCli(
      [
        'submit',
        'graph',
        '--tenant',
        '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b',
        '--scan-id',
        scanId,
        '--subject',
        `app@sha256:${'a'.repeat(64)}`,
        '--graph-digest',
        `sha256:${'b'.repeat(64)}`,
        '--finished-at',
        '2025-12-20T10:00:00Z',
      ],
      { env: { ...clean, REDIS_URL: redisUrl(), DATABASE_URL: databaseUrl() } },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--scan-id: ');
    expect(r.stderr).toContain('[INVALID_INPUT]');
    expect(r.stderr.length).toBeLessThan(1_000);
  });

  describe('a service that is down', () => {
    let rekor: RekorLocalServer;
    beforeAll(async () => {
      rekor = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), fsync: false });
    });
    afterAll(async () => {
      await rekor.close();
    });

    test('drain with Postgres down: exit 1, Postgres named, no stack, no password', async () => {
      const r = await runCli(['drain'], {
        env: {
          ...clean,
          REKOR_URL: rekor.url,
          REDIS_URL: redisUrl(),
          DATABASE_URL: `postgres://app:${SECRET}@127.0.0.1:1/rekor`,
        },
        cwd: dir,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Postgres at postgres://***@127.0.0.1:1/rekor does not answer');
      expect(r.stderr).toContain('DATABASE_URL');
      expect(r.stderr).toContain('[SERVICE_UNAVAILABLE]');
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
    });
  });
});

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import pg from 'pg';
import { parse } from 'yaml';
import { createBudget } from '@rekor-budget/budget';
import { createRedisKeys } from '@rekor-budget/core';
import { migrations } from '@rekor-budget/db';
import {
  createTestServices,
  databaseUrl,
  deleteKeys,
  redisUrl,
  uniquePrefix,
  type TestServices,
} from '@rekor-budget/testing';
import { buildProgram } from '../src/main';
import { escalatedFindingFlags, runCli } from './helpers';

/**
 * Issue 16, the CLI points: what a new user met, each with its message and
 * exit code, through the built binary as a real process.
 */
jest.setTimeout(60_000);

const dir = mkdtempSync(join(tmpdir(), 'rb-operator-'));
let s: TestServices;

/** The environment of a run on this file's own Redis prefix and database, and nothing of the developer's. */
function env(more: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    REDIS_URL: redisUrl(),
    REDIS_PREFIX: s.prefix,
    DATABASE_URL: s.t.url,
    REKOR_URL: undefined,
    SIGNING_KEY: undefined,
    DASHBOARD_USER: undefined,
    DASHBOARD_PASSWORD: undefined,
    DASHBOARD_PORT: undefined,
    METRICS_PORT: undefined,
    ...more,
  };
}

function configFile(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `attestor:\n  rekor:\n${body.replace(/^/gm, '    ')}\n`);
  return file;
}

const TENANT = '6f1d3c2a-0b4e-4f5a-9c8d-7e6f5a4b3c2d';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const GRAPH = [
  'submit',
  'graph',
  '--tenant',
  TENANT,
  '--graph-digest',
  DIGEST,
  '--scan-id',
  'scan-1',
  '--subject',
  `registry.example/app@${DIGEST}`,
  '--finished-at',
  '2025-12-20T10:00:00Z',
];

/** `args` with the value after `flag` replaced. */
function withFlag(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  return [...args.slice(0, i + 1), value, ...args.slice(i + 2)];
}

beforeAll(async () => {
  s = await createTestServices('operator');
});
afterAll(async () => {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('--help marks the required options', () => {
  test.each([
    [
      ['submit', 'graph'],
      ['--tenant', '--graph-digest', '--scan-id', '--subject', '--finished-at'],
    ],
    [
      ['submit', 'edge'],
      ['--tenant', '--cve', '--cvss', '--edges'],
    ],
    [['worker'], ['--role']],
    [['keygen'], ['--out']],
    [['verify'], ['--bundle', '--trusted-root', '--key']],
  ])('%j', async (command, required) => {
    const r = await runCli([...command, '--help'], { env: env() });
    expect(r.code).toBe(0);
    const lines = r.stdout.replace(/\n\s{20,}/g, ' ').split('\n');
    for (const flag of required) {
      const line = lines.find((l) => l.trimStart().startsWith(flag));
      expect(line).toContain('(required)');
    }
    // and an optional one is not marked
    const optional = lines.find((l) => l.trimStart().startsWith('--json'));
    if (optional) expect(optional).not.toContain('(required)');
  });
});

describe('submit errors name the flag, not the input field (exit 2)', () => {
  test.each([
    ['--graph-digest', 'sha256:00', 'graphDigest', 'INVALID_DIGEST'],
    ['--tenant', 'acme', 'tenantId', 'INVALID_TENANT'],
    ['--finished-at', 'yesterday', 'scanFinishedAt', 'INVALID_INPUT'],
    // a day that does not exist, and a time without its offset, are refused, not moved
    ['--finished-at', '2025-02-30T00:00:00Z', 'scanFinishedAt', 'INVALID_INPUT'],
    ['--finished-at', '2025-12-20T10:00:00', 'scanFinishedAt', 'INVALID_INPUT'],
  ])('%s %s', async (flag, value, field, code) => {
    const r = await runCli(withFlag(GRAPH, flag, value), { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`rekor-budget: ${flag}: "${value}" is not`);
    expect(r.stderr).toContain(`[${code}]`);
    expect(r.stderr).not.toContain(`${field}:`);
  });

  test('--priority takes -1000..1000, as its help says', async () => {
    const low = await runCli([...GRAPH, '--priority', '-1001'], { env: env() });
    expect(low.code).toBe(2);
    expect(low.stderr).toContain('--priority must be a whole number from -1000 to 1000');
    // queued under its own prefix: the status tests of this file count the shared one's jobs
    const prefix = uniquePrefix('priority');
    try {
      const negative = await runCli(
        [...withFlag(GRAPH, '--scan-id', 'scan-negative'), '--priority', '-5', '--json'],
        { env: env({ REDIS_PREFIX: prefix }) },
      );
      expect(negative.stderr).toBe('');
      expect(negative.code).toBe(0);
      expect(JSON.parse(negative.stdout)).toMatchObject({ status: 'queued' });
    } finally {
      await deleteKeys(s.redis, prefix);
    }
  });

  test('submit edge refuses a flag that means nothing alone, an empty name, a CVSS not written in decimal', async () => {
    const EDGE = [
      'submit',
      'edge',
      ...GRAPH.slice(2),
      ...escalatedFindingFlags(join(dir, 'flag-edges.json')),
    ];
    for (const [extra, message] of [
      [['--reason', 'because'], '--reason: goes with --manual <requestedBy>'],
      [['--require-proof'], '--require-proof: goes with --policy-gate <name>'],
      [['--manual', ''], '--manual: is empty'],
      [['--policy-gate', ' '], '--policy-gate: is empty'],
    ] as const) {
      const r = await runCli([...EDGE, ...extra], { env: env() });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain('[INVALID_INPUT]');
    }
    const hex = await runCli(withFlag(EDGE, '--cvss', '0x9'), { env: env() });
    expect(hex.code).toBe(2);
    expect(hex.stderr).toContain('use a number from 0.0 to 10.0');
  });

  test('a subject digest names --subject and the part at fault', async () => {
    const r = await runCli(withFlag(GRAPH, '--subject', 'registry.example/app@sha256:00'), { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--subject: "sha256:00" is not a sha256 digest.*\(subject\.digest\) \[INVALID_DIGEST\]/,
    );
  });
});

test('worker --no-metrics beside --metrics-port or --metrics-host is refused, not ignored (exit 2)', async () => {
  for (const flag of [
    ['--metrics-port', '9999'],
    ['--metrics-host', '0.0.0.0'],
  ]) {
    const r = await runCli(['worker', '--role', 'graph', '--no-metrics', ...flag], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${flag[0]}: sets the metrics endpoint, which --no-metrics turns off`);
  }
});

test('a worker without a signing key is a configuration error (exit 2)', async () => {
  const file = configFile('no-key.yaml', `redis:\n  requireDurable: false\n  keyPrefix: ${s.prefix}`);
  const r = await runCli(['worker', '--role', 'graph', '--no-metrics', '--config', file], {
    env: env({ REDIS_PREFIX: undefined }),
  });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('no signing key: set attestor.rekor.signing.keyPath or SIGNING_KEY');
  expect(r.stderr).toContain('[SIGNING_KEY_MISSING]');
});

test('a signing key file that does not exist is a configuration error too (exit 2)', async () => {
  const file = configFile('missing-key.yaml', `redis:\n  requireDurable: false\n  keyPrefix: ${s.prefix}`);
  const r = await runCli(['worker', '--role', 'graph', '--no-metrics', '--config', file], {
    env: env({ REDIS_PREFIX: undefined, SIGNING_KEY: join(dir, 'nowhere.pem') }),
  });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('[KEY_UNREADABLE]');
});

describe('key public', () => {
  test('prints the public key of the configured signing key; without one, exit 2', async () => {
    const key = join(dir, 'site.pem');
    const made = await runCli(['keygen', '--out', key], { env: env() });
    expect(made.code).toBe(0);
    const r = await runCli(['key', 'public'], { env: env({ SIGNING_KEY: key }), cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(readFileSync(`${key}.pub`, 'utf8').trim());
    const out = join(dir, 'exported.pub');
    const written = await runCli(['key', 'public', '--out', out], {
      env: env({ SIGNING_KEY: key }),
      cwd: dir,
    });
    expect(written.code).toBe(0);
    expect(readFileSync(out, 'utf8').trim()).toBe(r.stdout.trim());

    const none = await runCli(['key', 'public'], { env: env(), cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('[SIGNING_KEY_MISSING]');
  });

  test('--out never overwrites a file unasked, never the signing key, and refuses a path it cannot write (exit 2)', async () => {
    const key = join(dir, 'kept.pem');
    expect((await runCli(['keygen', '--out', key], { env: env() })).code).toBe(0);
    const privatePem = readFileSync(key, 'utf8');
    const asKey = { env: env({ SIGNING_KEY: key }), cwd: dir };

    for (const force of [[], ['--force']]) {
      const ontoKey = await runCli(['key', 'public', '--out', key, ...force], asKey);
      expect(ontoKey.code).toBe(2);
      expect(ontoKey.stderr).toContain(`--out: ${key} is the signing key itself`);
    }
    // nor by another name
    const alias = join(dir, 'kept-alias.pem');
    symlinkSync(key, alias);
    const ontoAlias = await runCli(['key', 'public', '--out', alias, '--force'], asKey);
    expect(ontoAlias.code).toBe(2);
    expect(ontoAlias.stderr).toContain('is the signing key itself');
    expect(readFileSync(key, 'utf8')).toBe(privatePem);

    const other = join(dir, 'other.pub');
    writeFileSync(other, 'old');
    const unasked = await runCli(['key', 'public', '--out', other], asKey);
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toContain(`--out: ${other} exists; pass --force to overwrite it`);
    expect(readFileSync(other, 'utf8')).toBe('old');
    expect((await runCli(['key', 'public', '--out', other, '--force'], asKey)).code).toBe(0);
    expect(readFileSync(other, 'utf8')).toBe(readFileSync(`${key}.pub`, 'utf8'));

    for (const [out, why] of [
      [join(dir, 'no-such-dir', 'x.pub'), 'its directory does not exist'],
      [dir, 'exists'],
    ] as const) {
      const r = await runCli(['key', 'public', '--out', out], asKey);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(why);
      expect(r.stderr).not.toMatch(/INTERNAL_ERROR|\n\s+at /);
    }
    const dirForced = await runCli(['key', 'public', '--out', dir, '--force'], asKey);
    expect(dirForced.code).toBe(2);
    expect(dirForced.stderr).toContain('it is a directory');
  });
});

test('dashboard --host: --insecure-local with another host, or a host that does not resolve, is a usage error (exit 2)', async () => {
  const r = await runCli(['dashboard', '--insecure-local', '--host', '0.0.0.0', '--port', '0'], {
    env: env(),
  });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--insecure-local serves on 127.0.0.1 only');
  // a host that does not resolve is the flag's fault, not Postgres's
  const nowhere = await runCli(['dashboard', '--host', 'bogus.invalid', '--port', '0'], {
    env: env({ DASHBOARD_USER: 'operator', DASHBOARD_PASSWORD: 'a long enough password' }),
  });
  expect(nowhere.code).toBe(2);
  expect(nowhere.stderr).toContain(
    '"bogus.invalid" does not resolve; pass an address or name of this machine with --host',
  );
  expect(nowhere.stderr).toContain('[DASHBOARD_LISTEN_FAILED]');
  expect(nowhere.stderr).not.toContain('Postgres');
});

test('start with a REKOR_LOCAL_PORT that is not a port refuses it rather than pick another (exit 2)', async () => {
  const r = await runCli(['start'], { env: env({ REKOR_LOCAL_PORT: 'abc' }), cwd: dir });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('REKOR_LOCAL_PORT: "abc" is not a TCP port');
  expect(r.stderr).toContain('[INVALID_INPUT]');
});

describe('config check', () => {
  test('says the configuration is valid, and --print shows it in the file’s own keys', async () => {
    const file = configFile(
      'check.yaml',
      'tier: with-edges\nbudget:\n  burstWindow: "00:05:00"\ntenants:\n  6F1D3C2A-0B4E-4F5A-9C8D-7E6F5A4B3C2D: acme',
    );
    const ok = await runCli(['config', 'check', '--config', file], { env: env() });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`configuration OK (source: ${file})`);

    const r = await runCli(['config', 'check', '--print', '--config', file], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/Ms\b|burstWindowLimit|requestTimeoutMs/);
    const printed = parse(r.stdout) as { attestor: { rekor: Record<string, Record<string, unknown>> } };
    expect(printed.attestor.rekor.budget).toMatchObject({ burstWindow: '00:05:00', hourlyLimit: 100 });
    expect(printed.attestor.rekor.retry).toMatchObject({ initialDelay: '00:00:05', maxDelay: '00:05:00' });
    expect(printed.attestor.rekor.tenants).toEqual({ [TENANT]: 'acme' });

    // what it printed is a valid attestor.yaml that loads to the same configuration
    const again = join(dir, 'printed.yaml');
    writeFileSync(again, r.stdout);
    const back = await runCli(['config', 'check', '--print', '--config', again], { env: env() });
    expect(back.code).toBe(0);
    expect(back.stdout.split('\n').slice(1)).toEqual(r.stdout.split('\n').slice(1));
  });

  test('--json carries the same keys', async () => {
    const r = await runCli(['config', 'check', '--json'], { env: env(), cwd: dir });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { config: { budget: Record<string, unknown> } };
    expect(out.config.budget).toEqual({
      hourlyLimit: 100,
      burstLimit: 200,
      burstWindow: '00:10:00',
      edgeBundleDailyLimit: 50,
    });
  });
});

describe('config init', () => {
  test('writes a commented attestor.yaml that validates, and never overwrites one unasked (exit 2)', async () => {
    const cwd = join(dir, 'init');
    mkdirSync(cwd);
    const r = await runCli(['config', 'init'], { env: env(), cwd });
    expect(r.code).toBe(0);
    const file = join(cwd, 'attestor.yaml');
    expect(r.stdout).toContain(`wrote ${file}`);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n').filter((l) => l.trimStart().startsWith('#')).length).toBeGreaterThan(30);
    expect(text).toContain('burstWindow: "00:10:00"');

    const check = await runCli(['config', 'check'], { env: env(), cwd });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(`configuration OK (source: ${file})`);

    const again = await runCli(['config', 'init'], { env: env(), cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`--out: ${file} exists; pass --force to overwrite it`);
    const forced = await runCli(['config', 'init', '--force'], { env: env(), cwd });
    expect(forced.code).toBe(0);

    const nowhere = await runCli(['config', 'init', '--out', join(cwd, 'missing', 'a.yaml')], {
      env: env(),
      cwd,
    });
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('its directory does not exist');
    expect(nowhere.stderr).not.toContain('INTERNAL_ERROR');
  });
});

describe('migrate and a database that does not exist', () => {
  const name = `rekor_budget_missing_${process.pid}_${Date.now()}`;
  const url = (() => {
    const u = new URL(databaseUrl());
    u.pathname = `/${name}`;
    return u.toString();
  })();
  afterAll(async () => {
    const c = new pg.Client({ connectionString: databaseUrl() });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });

  test('names the database and the fix (exit 1); --create-database creates and migrates it', async () => {
    const r = await runCli(['migrate'], { env: env({ DATABASE_URL: url }) });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`database "${name}" does not exist`);
    expect(r.stderr).toContain('rekor-budget migrate --create-database');
    expect(r.stderr).toContain('[DATABASE_MISSING]');

    const created = await runCli(['migrate', '--create-database'], { env: env({ DATABASE_URL: url }) });
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('created database');
    expect(created.stdout).toContain(`applied ${Object.keys(migrations).length} migration(s)`);
  });

  test('a database never migrated: status says to run migrate (exit 1)', async () => {
    const bare = await runCli(['migrate', '--create-database', '--json'], {
      env: env({ DATABASE_URL: url }),
    });
    expect(bare.code).toBe(0);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('DROP SCHEMA attestor CASCADE');
    await c.end();
    const r = await runCli(['status'], { env: env({ DATABASE_URL: url }), cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the attestor schema is missing');
    expect(r.stderr).toContain('run `rekor-budget migrate`');
    expect(r.stderr).toContain('[SCHEMA_MISSING]');
  });
});

describe('status', () => {
  test('with Redis down: one line naming the URL and the fix (exit 1)', async () => {
    const r = await runCli(['status'], { env: env({ REDIS_URL: 'redis://127.0.0.1:1' }), cwd: dir });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('Redis at redis://127.0.0.1:1 does not answer');
    expect(lines[0]).toContain('set REDIS_URL');
    expect(lines[0]).toContain('[SERVICE_UNAVAILABLE]');
    expect(r.stderr).not.toMatch(/MaxRetriesPerRequest|BUDGET_UNAVAILABLE/);
    expect(r.stdout).toBe('');
  });

  test('names the timestamp authority and whether it grants a timestamp, when one is configured', async () => {
    const plain = await runCli(['status'], { env: env({ REKOR_URL: 'http://127.0.0.1:1' }), cwd: dir });
    expect(plain.stdout).not.toMatch(/^tsa /m);
    const file = configFile(
      'tsa.yaml',
      `redis:\n  keyPrefix: ${s.prefix}\ntimestampAuthority:\n  url: http://user:secret@127.0.0.1:1/api/v1/timestamp`,
    );
    const r = await runCli(['status', '--config', file], {
      env: env({ REKOR_URL: 'http://127.0.0.1:1', REDIS_PREFIX: undefined }),
      cwd: dir,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^tsa {5}http:\/\/.*127\.0\.0\.1:1\/api\/v1\/timestamp: UNREACHABLE \(ECONNREFUSED\)$/m,
    );
    expect(r.stdout).not.toContain('secret');
    const json = await runCli(['status', '--json', '--config', file], {
      env: env({ REKOR_URL: 'http://127.0.0.1:1', REDIS_PREFIX: undefined }),
      cwd: dir,
    });
    expect(JSON.parse(json.stdout).timestampAuthority).toMatchObject({
      reachable: false,
      detail: 'ECONNREFUSED',
    });
  });

  test('the queue header keeps its columns apart', async () => {
    const r = await runCli(['status'], { env: env({ REKOR_URL: 'http://127.0.0.1:1' }), cwd: dir });
    expect(r.code).toBe(0);
    const header = r.stdout.split('\n').find((l) => l.startsWith('queues'));
    expect(header).toBeDefined();
    expect(header).not.toMatch(/[a-z]{2}(prioritized|delayed|paused|completed|failed|active)/);
    expect(header!.trim().split(/\s+/)).toEqual([
      'queues',
      'waiting',
      'active',
      'delayed',
      'prioritized',
      'paused',
      'completed',
      'failed',
    ]);
  });

  test('shows tenants by the display names of the configuration, next to their UUID', async () => {
    const config = s.config();
    const budget = createBudget({ redis: s.redis, keys: createRedisKeys(s.prefix), limits: config.budget });
    expect((await budget.tryConsume(TENANT, 'graph')).admitted).toBe(true);
    const file = configFile('names.yaml', `redis:\n  keyPrefix: ${s.prefix}\ntenants:\n  ${TENANT}: acme`);
    const r = await runCli(['status', '--config', file], {
      env: env({ REKOR_URL: 'http://127.0.0.1:1', REDIS_PREFIX: undefined }),
      cwd: dir,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^  acme ${TENANT} graph .* 1/100 .*next free: now +queued 0 +parked 0 +next release: -$`,
        'm',
      ),
    );
    const json = await runCli(['status', '--json', '--config', file], {
      env: env({ REKOR_URL: 'http://127.0.0.1:1', REDIS_PREFIX: undefined }),
      cwd: dir,
    });
    expect(JSON.parse(json.stdout).tenants).toEqual([
      expect.objectContaining({ tenantId: TENANT, name: 'acme', tier: 'graph' }),
    ]);
  });

  test('--tenants N shows the N fullest tenants, and the header counts them all', async () => {
    const prefix = uniquePrefix('status-rank');
    try {
      const budget = createBudget({
        redis: s.redis,
        keys: createRedisKeys(prefix),
        limits: s.config().budget,
      });
      const [full, light, newest] = [
        'a1111111-1111-4111-8111-111111111111',
        'b2222222-2222-4222-8222-222222222222',
        'c3333333-3333-4333-8333-333333333333',
      ];
      // the full tenant was active first; the others later, with one unit each
      for (let i = 0; i < 33; i++) expect((await budget.tryConsume(full, 'graph')).admitted).toBe(true);
      expect((await budget.tryConsume(light, 'graph')).admitted).toBe(true);
      expect((await budget.tryConsume(newest, 'graph')).admitted).toBe(true);
      const run = (...args: string[]) =>
        runCli(['status', ...args], {
          env: env({ REKOR_URL: 'http://127.0.0.1:1', REDIS_PREFIX: prefix }),
          cwd: dir,
        });
      const r = await run('--tenants', '1');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(
        'tenants (active in the last 24 h or with parked jobs): 3, the 1 fullest shown',
      );
      expect(r.stdout).toMatch(new RegExp(`^  ${full} graph .* 33/33 `, 'm'));
      expect(r.stdout).not.toContain(newest);
      const json = JSON.parse((await run('--json', '--tenants', '2')).stdout);
      expect(json.tenantsTotal).toBe(3);
      expect(json.tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual([full, light]);
    } finally {
      await deleteKeys(s.redis, prefix);
    }
  });

  test('beside start, reads the URLs and namespace start wrote to .rekor-budget/env', async () => {
    const cwd = join(dir, 'beside-start');
    mkdirSync(join(cwd, '.rekor-budget'), { recursive: true });
    writeFileSync(
      join(cwd, '.rekor-budget', 'env'),
      `# written by start\nREDIS_URL=${redisUrl()}\nREDIS_PREFIX=${s.prefix}\nDATABASE_URL=${s.t.url}\nREKOR_URL=http://127.0.0.1:1/started-log\n`,
    );
    const r = await runCli(['status', '--json'], {
      env: env({ REDIS_URL: undefined, REDIS_PREFIX: undefined, DATABASE_URL: undefined }),
      cwd,
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).rekor.url).toBe('http://127.0.0.1:1/started-log');
    // the environment wins over the file
    const mine = await runCli(['status', '--json'], {
      env: env({ REKOR_URL: 'http://127.0.0.1:2', REDIS_PREFIX: undefined }),
      cwd,
    });
    expect(mine.code).toBe(0);
    expect(JSON.parse(mine.stdout).rekor.url).toBe('http://127.0.0.1:2');
  });

  test('beside start, receipts export, offline export and migrate use the database start wrote down', async () => {
    const cwd = join(dir, 'beside-start-db');
    mkdirSync(join(cwd, '.rekor-budget'), { recursive: true });
    const missing = `rb_started_${Date.now().toString(36)}`;
    const url = new URL(s.t.url);
    url.pathname = `/${missing}`;
    writeFileSync(
      join(cwd, '.rekor-budget', 'env'),
      `REDIS_URL=${redisUrl()}\nREDIS_PREFIX=${s.prefix}\nDATABASE_URL=${url.href}\nREKOR_URL=http://127.0.0.1:1\n`,
    );
    const quiet = env({ REDIS_URL: undefined, REDIS_PREFIX: undefined, DATABASE_URL: undefined });
    // each names the database of the file, which does not exist: they read it
    for (const args of [
      ['receipts', 'export', '--out', 'r.json'],
      ['offline', 'export', '--out', 'kit'],
      ['migrate'],
    ]) {
      const r = await runCli(args, { env: quiet, cwd });
      expect({ args, failed: r.code !== 0, namesIt: r.stderr.includes(missing) }).toEqual({
        args,
        failed: true,
        namesIt: true,
      });
    }
    // with the file pointing at a database that exists, export succeeds
    writeFileSync(join(cwd, '.rekor-budget', 'env'), `DATABASE_URL=${s.t.url}\nREDIS_PREFIX=${s.prefix}\n`);
    const ok = await runCli(['receipts', 'export', '--out', 'r.json', '--json'], { env: quiet, cwd });
    expect(ok.code).toBe(0);
    expect(existsSync(join(cwd, 'r.json'))).toBe(true);
  });
});

describe('the README documents every command and flag', () => {
  const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const cli = readme.slice(readme.indexOf('## The CLI'), readme.indexOf('## Running against'));
  const program = buildProgram(
    { out: () => undefined, err: () => undefined, env: {}, cwd: dir },
    () => undefined,
  );
  const flags: [string, string][] = [];
  const walk = (cmd: Command, path: string[]) => {
    for (const o of cmd.options) if (o.long && path.length > 0) flags.push([path.join(' '), o.long]);
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);

  test.each(flags)('%s %s', (command, flag) => {
    // a line of the CLI section that runs the command and names the flag
    const runs = new RegExp(`(rekor-budget|\\|) +${command.split(' ').join(' +')}( |$)`);
    const lines = cli.split('\n').filter((l) => runs.test(l));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes(flag))).toBe(true);
  });

  test('the config template the CLI writes is attestor.example.yaml', () => {
    const shipped = join(__dirname, '..', 'dist', 'attestor.example.yaml');
    expect(existsSync(shipped)).toBe(true);
    expect(readFileSync(shipped, 'utf8')).toBe(
      readFileSync(join(__dirname, '..', '..', '..', 'attestor.example.yaml'), 'utf8'),
    );
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrations } from '@rekor-budget/db';
import { databaseUrl } from '@rekor-budget/testing';
import { runCli } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'rb-cli-'));
function configFile(name: string, rekorBody: string): string {
  const file = join(dir, name);
  writeFileSync(file, `attestor:\n  rekor:\n${rekorBody.replace(/^/gm, '    ')}\n`);
  return file;
}

describe('rekor-budget CLI', () => {
  test('--help lists the commands and the exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: rekor-budget/);
    expect(r.stdout).toMatch(/migrate/);
    expect(r.stdout).toMatch(/Exit codes:/);
  });

  test('an unknown command is a usage error (exit 2)', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });

  test.each([
    [
      'a typo',
      'budget:\n  hourlyLimt: 100',
      'attestor.rekor.budget.hourlyLimt',
      '100',
      'did you mean "hourlyLimit"?',
    ],
    [
      'a bad duration',
      'budget:\n  burstWindow: "10 minutes"',
      'attestor.rekor.budget.burstWindow',
      '"10 minutes"',
      'use hh:mm:ss, e.g. "00:10:00"',
    ],
    [
      'burstLimit < hourlyLimit',
      'budget:\n  hourlyLimit: 100\n  burstLimit: 60',
      'attestor.rekor.budget.burstLimit',
      '60',
      'set burstLimit >= hourlyLimit',
    ],
    [
      'conflicting daily limits',
      'budget:\n  edgeBundleDailyLimit: 40\nedgeBundles:\n  dailyLimit: 50',
      'attestor.rekor.edgeBundles.dailyLimit',
      '50',
      'set only one of them or make them equal',
    ],
  ])(
    'a config with %s is refused with the path, the value and the fix (exit 2)',
    async (_what, body, path, value, fix) => {
      const file = configFile(`${path}.yaml`, body);
      const r = await runCli(['config', 'check', '--config', file]);
      expect(r.code).toBe(2);
      const line = r.stderr.split('\n').find((l) => l.includes(`${path}:`));
      expect(line).toBeDefined();
      expect(line).toContain(`${path}: ${value}`);
      expect(line).toContain(fix);
    },
  );

  test('every command refuses a bad config the same way', async () => {
    const file = configFile('typo.yaml', 'tierr: graph-only');
    for (const args of [['migrate'], ['start'], ['config', 'check']]) {
      const r = await runCli([...args, '--config', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('attestor.rekor.tierr');
    }
  });

  test('config check prints the effective configuration with overrides applied', async () => {
    const file = configFile('ok.yaml', 'tier: with-edges');
    const r = await runCli(['config', 'check', '--config', file, '--json'], {
      env: { REKOR_URL: 'http://127.0.0.1:3999', DATABASE_URL: 'postgres://u:secret@db/x' },
    });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.source).toBe(file);
    expect(out.config.tier).toBe('with-edges');
    expect(out.config.serverUrl).toBe('http://127.0.0.1:3999');
    expect(out.config.database.url).not.toContain('secret');
  });

  test('start says which service is down and how to start it (exit 1)', async () => {
    const r = await runCli(['start'], {
      env: { REDIS_URL: 'redis://127.0.0.1:1', DATABASE_URL: databaseUrl() },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/redis .*DOWN/);
    expect(r.stderr).toMatch(/Redis does not answer: start it with/);
  });
});

describe('rekor-budget migrate', () => {
  const name = `rekor_budget_cli_${process.pid}_${Date.now()}`;
  const admin = () => new pg.Client({ connectionString: databaseUrl() });
  const url = (() => {
    const u = new URL(databaseUrl());
    u.pathname = `/${name}`;
    return u.toString();
  })();

  beforeAll(async () => {
    const c = admin();
    await c.connect();
    await c.query(`CREATE DATABASE ${name}`);
    await c.end();
  });
  afterAll(async () => {
    const c = admin();
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });

  test('on an empty database creates the attestor tables; again, changes nothing', async () => {
    const first = await runCli(['migrate', '--json'], { env: { DATABASE_URL: url } });
    expect(first.code).toBe(0);
    // every migration, in order, the first one the schema
    expect(JSON.parse(first.stdout).applied).toEqual(Object.keys(migrations));
    expect(Object.keys(migrations)[0]).toBe('0001_attestor_schema');

    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const { rows } = await c.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'attestor' ORDER BY 1",
    );
    await c.end();
    expect(rows.map((r) => r.table_name)).toEqual([
      'rekor_entries',
      'rekor_envelopes',
      'rekor_offline_queue',
      'rekor_parked',
      'rekor_quotas',
      'rekor_rejected',
    ]);

    const second = await runCli(['migrate'], { env: { DATABASE_URL: url } });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/up to date/);
  });

  test('an unreachable database is a failure (exit 1) naming the problem', async () => {
    const r = await runCli(['migrate'], { env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ECONNREFUSED|connect/);
  });
});

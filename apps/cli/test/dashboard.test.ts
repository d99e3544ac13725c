import { spawn } from 'node:child_process';
import { databaseUrl, redisUrl } from '@rekor-budget/testing';
import { BIN, runCli } from './helpers';

describe('rekor-budget dashboard', () => {
  test('--help names the flags', async () => {
    const r = await runCli(['dashboard', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--port <n>/);
    expect(r.stdout).toMatch(/--insecure-local/);
  });

  test('without credentials it exits 2 and says what to set', async () => {
    const r = await runCli(['dashboard', '--port', '0'], {
      env: {
        REDIS_URL: redisUrl(),
        DATABASE_URL: databaseUrl(),
        DASHBOARD_USER: undefined,
        DASHBOARD_PASSWORD: undefined,
      },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DASHBOARD_USER/);
    expect(r.stderr).toMatch(/DASHBOARD_PASSWORD/);
    expect(r.stderr).toMatch(/--insecure-local/);
    expect(r.stderr).toMatch(/DASHBOARD_CREDENTIALS_MISSING/);
  });

  test('a bad --port is a usage error (exit 2)', async () => {
    const r = await runCli(['dashboard', '--port', 'abc']);
    expect(r.code).toBe(2);
  });

  test('--insecure-local serves on 127.0.0.1 and stops on SIGTERM (exit 0)', async () => {
    const child = spawn(process.execPath, [BIN, 'dashboard', '--port', '0', '--insecure-local'], {
      env: {
        ...process.env,
        REDIS_URL: redisUrl(),
        DATABASE_URL: databaseUrl(),
        DASHBOARD_USER: undefined,
        DASHBOARD_PASSWORD: undefined,
      },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`dashboard exited early:\n${out}`)));
    });
    const health = await fetch(`${url}/healthz`, { headers: { connection: 'close' } });
    expect(health.status).toBe(200);
    await health.text();
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    expect(out).toMatch(/dashboard: SIGTERM, stopping/);
  });
});

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, runCli } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'rb-cli-rekor-local-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rekor-budget rekor-local --api', () => {
  test('an API that is not v1, v2 or both is a usage error (exit 2) naming the flag', async () => {
    const r = await runCli(['rekor-local', '--api', 'v3', '--data', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--api');
  });

  test('--api v2 serves /checkpoint and the TSA, and answers 404 on /api/v1/log', async () => {
    const child = spawn(process.execPath, [
      BIN,
      'rekor-local',
      '--port',
      '0',
      '--api',
      'v2',
      '--data',
      join(dir, 'log'),
    ]);
    let stdout = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        const m = /listening on (http:\/\/\S+)/.exec(stdout);
        if (m) resolve(m[1]!);
      });
      child.once('exit', () => reject(new Error(`exited early: ${stdout}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const headers = { Connection: 'close' };
      expect((await fetch(`${url}/api/v1/log`, { headers })).status).toBe(404);
      const checkpoint = await fetch(`${url}/checkpoint`, { headers });
      expect(checkpoint.status).toBe(200);
      expect((await checkpoint.text()).split('\n')[1]).toBe('0');
      const chain = await fetch(`${url}/api/v1/timestamp/certchain`, { headers });
      expect(chain.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stdout).toContain('API           v2');
  });
});

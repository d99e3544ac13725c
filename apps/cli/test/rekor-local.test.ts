import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BIN, runCli } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'rb-cli-rekor-local-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rekor-budget rekor-local', () => {
  test('--help lists the flags', async () => {
    const r = await runCli(['rekor-local', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--port', '--data', '--faults', '--body-limit', '--admin-port'])
      expect(r.stdout).toContain(flag);
  });

  test('a bad port is a usage error (exit 2)', async () => {
    const r = await runCli(['rekor-local', '--port', 'abc', '--data', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--port');
  });

  test.each([
    [['--body-limit', '10'], '--body-limit must be a whole number from 1024'],
    [['--public-url', 'ftp://x'], 'use an http(s) URL'],
    [['--admin-port', '0'], '--admin-port: serves /admin/faults, which only --faults turns on'],
  ])('%j is a usage error naming the flag (exit 2)', async (flags, says) => {
    const r = await runCli(['rekor-local', '--data', join(dir, 'flags'), ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(says);
    expect(r.stderr).not.toContain('INTERNAL_ERROR');
  });

  test('a port in use is a usage error naming --port, not a crash (exit 2)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const r = await runCli(['rekor-local', '--data', join(dir, 'taken'), '--port', String(port)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`127.0.0.1:${port} is in use by another process`);
      expect(r.stderr).toContain('[LISTEN_FAILED]');
    } finally {
      taken.close();
    }
  });

  test('serves the log until SIGTERM, then exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'rekor-local', '--port', '0', '--data', join(dir, 'log')]);
    let stdout = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        const m = /listening on (http:\/\/\S+)/.exec(stdout);
        if (m) resolve(m[1]!);
      });
      child.once('exit', () => reject(new Error(`exited early: ${stdout}`)));
    });
    const res = await fetch(`${url}/api/v1/log`, { headers: { Connection: 'close' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { treeSize: number }).treeSize).toBe(0);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toContain('stopping');
  });
});

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** Runs jest on one fixture file in a child process. */
function runFixture(name: string): { status: number | null; output: string } {
  // jest.config.js is CommonJS: load it as jest does
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const base = require(join(ROOT, 'jest.config.js')) as Record<string, unknown>;
  const config = { ...base, rootDir: ROOT, roots: [join(__dirname, 'fixtures')], testMatch: [`**/${name}`] };
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--config', JSON.stringify(config), '--forceExit'],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, CI: '' } },
  );
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('the leak check of the test environment', () => {
  test('fails a file that leaves a Redis connection open', () => {
    const r = runFixture('leaks-socket.fixture.ts');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('leaked 1 x TCPSocketWrap');
  });

  test('fails a file that leaves a timer running', () => {
    const r = runFixture('leaks-timer.fixture.ts');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('leaked 1 x timer');
  });

  test('passes a file that closes everything', () => {
    const r = runFixture('clean.fixture.ts');
    expect(r.output).toContain('1 passed');
    expect(r.status).toBe(0);
  });
});

import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * Runs promtool on the alert rules and their unit tests. In CI a missing
 * promtool is a failure; locally the tests are skipped with a note.
 */
const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../..');
const PROMETHEUS = join(ROOT, 'deploy/prometheus');

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, cmd);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const promtool = which('promtool');
const MISSING =
  'promtool is not installed: install the Debian package `prometheus` (apt-get install -y prometheus), which provides promtool';

async function promtoolRun(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run(promtool!, args, { cwd: ROOT, timeout: 60_000 });
  return `${stdout}${stderr}`;
}

if (!promtool && !process.env.CI) {
  console.log(`skipping the promtool tests locally: ${MISSING}`);
}

describe('Prometheus rules (promtool)', () => {
  if (!promtool) {
    if (process.env.CI) {
      it('needs promtool in CI', () => {
        throw new Error(MISSING);
      });
    } else {
      it.skip(`promtool tests (${MISSING})`, () => undefined);
    }
    return;
  }

  it('alerts.yml passes promtool check rules', async () => {
    const out = await promtoolRun('check', 'rules', join(PROMETHEUS, 'alerts.yml'));
    expect(out).toMatch(/SUCCESS: 7 rules found/);
  });

  it('alerts.test.yml passes promtool test rules (each alert firing and not firing)', async () => {
    const out = await promtoolRun('test', 'rules', join(PROMETHEUS, 'alerts.test.yml'));
    expect(out).toMatch(/SUCCESS/);
  });

  it('prometheus.yml passes promtool check config', async () => {
    const out = await promtoolRun('check', 'config', join(PROMETHEUS, 'prometheus.yml'));
    expect(out).toMatch(/is valid prometheus config file syntax/);
  });
});

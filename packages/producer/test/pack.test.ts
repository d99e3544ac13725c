import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRedisKeys } from '@rekor-budget/core';
import { createTierQueues } from '@rekor-budget/queue';
import { createTestServices, redisUrl, type TestServices } from '@rekor-budget/testing';

/**
 * Issue 16: the producer from a scanner's own project. The packages are
 * packed as npm would publish them, installed into an empty project, and
 * the README's example runs there unchanged against this file's Redis
 * prefix and database.
 */
jest.setTimeout(600_000);

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
const README = join(__dirname, '..', 'README.md');
const dir = mkdtempSync(join(tmpdir(), 'rb-pack-'));
let s: TestServices;

/** The workspace packages `name` depends on, itself included, in no particular order. */
function withDependencies(name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  seen.add(name);
  const folder = name === '@rekor-budget/db' ? 'db' : join('packages', name.replace('@rekor-budget/', ''));
  const pkg = JSON.parse(readFileSync(join(ROOT, folder, 'package.json'), 'utf8')) as {
    private?: boolean;
    dependencies?: Record<string, string>;
    exports?: unknown;
    files?: string[];
  };
  // publishable: not private, with its entry points and files named
  expect({ name, private: pkg.private ?? false }).toEqual({ name, private: false });
  expect(pkg.exports).toBeDefined();
  expect(pkg.files).toContain('dist');
  for (const dep of Object.keys(pkg.dependencies ?? {}))
    if (dep.startsWith('@rekor-budget/')) withDependencies(dep, seen);
  return seen;
}

/** The README's example: the `js` block after "in an ES module". */
function readmeExample(): string {
  const text = readFileSync(README, 'utf8');
  const from = text.indexOf('```js', text.indexOf('in an ES module'));
  const body = text.slice(from + '```js'.length, text.indexOf('```', from + 5));
  expect(body).toContain('createRekorProducer');
  return body;
}

beforeAll(async () => {
  s = await createTestServices('pack');
});
afterAll(async () => {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

test('packed producer, core, db (and what they need) install into an empty project; the README example runs there', async () => {
  const packages = [...withDependencies('@rekor-budget/producer')];
  expect(packages).toEqual(expect.arrayContaining(['@rekor-budget/core', '@rekor-budget/db']));

  const tarballs = join(dir, 'tarballs');
  mkdirSync(tarballs);
  await run(
    'npm',
    ['pack', '--ignore-scripts', '--pack-destination', tarballs, ...packages.flatMap((p) => ['-w', p])],
    { cwd: ROOT },
  );
  const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
  expect(files).toHaveLength(packages.length);

  const project = join(dir, 'scanner');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'scanner', version: '1.0.0', private: true, type: 'module' }),
  );
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--ignore-scripts',
      ...files.map((f) => join(tarballs, f)),
    ],
    { cwd: project, env: { ...process.env, npm_config_workspaces: undefined } },
  );

  // Tier 2 is on in this project's attestor.yaml, so both halves of the example run
  writeFileSync(
    join(project, 'attestor.yaml'),
    'attestor:\n  rekor:\n    tier: with-edges\n    redis:\n      requireDurable: false\n',
  );
  writeFileSync(join(project, 'example.mjs'), readmeExample());
  const r = await run(process.execPath, ['example.mjs'], {
    cwd: project,
    env: {
      PATH: process.env.PATH,
      REDIS_URL: redisUrl(),
      REDIS_PREFIX: s.prefix,
      DATABASE_URL: s.t.url,
    },
  });
  const graph = /^queued (graph-[0-9a-f]{64})$/m.exec(r.stdout);
  const edge = /^queued (edge-[0-9a-f]{64}) \[.*'manual'.*\]$/m.exec(r.stdout);
  expect(graph).not.toBeNull();
  expect(edge).not.toBeNull();

  // the jobs are in this file's queues, where workers would find them
  const queues = createTierQueues({ redis: s.redis, keys: createRedisKeys(s.prefix) });
  try {
    expect(await queues.get('graph').getJob(graph![1]!)).toBeDefined();
    expect(await queues.get('edge').getJob(edge![1]!)).toBeDefined();
  } finally {
    await queues.close();
  }
});

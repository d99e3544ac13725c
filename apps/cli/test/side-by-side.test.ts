import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTestRedis, databaseUrl, deleteKeys, redisUrl } from '@rekor-budget/testing';
import { BIN, runCli } from './helpers';

/**
 * Issue 16: two checkouts on one machine, run with no flags at the same
 * time, never share state. Each gets its own Redis key prefix and its own
 * database (derived from its directory), and its own ports when the
 * defaults are taken, and each reaches its demo's end state.
 */
jest.setTimeout(240_000);

const root = mkdtempSync(join(tmpdir(), 'rb-side-'));
/** Two fresh clones with the same directory name: only their paths differ. */
function twoClones(label: string): string[] {
  return ['a', 'b'].map((p) => {
    const dir = join(root, `${label}-${p}`, 'rekor-budget');
    mkdirSync(dir, { recursive: true });
    return dir;
  });
}
/** Postgres as a fresh machine has it: the server, with its maintenance database `postgres`. */
const serverUrl = (() => {
  const u = new URL(databaseUrl());
  u.pathname = '/postgres';
  return u.toString();
})();
/** Nothing of the developer's own settings: only where the services run. */
const env = {
  REDIS_URL: redisUrl(),
  DATABASE_URL: serverUrl,
  REDIS_PREFIX: undefined,
  REKOR_URL: undefined,
  SIGNING_KEY: undefined,
  DASHBOARD_USER: undefined,
  DASHBOARD_PASSWORD: undefined,
  DASHBOARD_PORT: undefined,
  METRICS_PORT: undefined,
  REKOR_LOCAL_PORT: undefined,
  LOG_LEVEL: undefined,
};
/** What the runs chose, to clean up after them. */
const namespaces = new Map<string, { prefix: string; database: string }>();

function namespaceOf(output: string): { prefix: string; database: string } {
  const m = /namespace redis prefix (\S+), database (\S+) \((this checkout's|the demo's) own/.exec(output);
  if (!m) throw new Error(`no namespace line in:\n${output.slice(0, 2000)}`);
  return { prefix: m[1]!, database: m[2]! };
}

afterAll(async () => {
  const redis = createTestRedis();
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  try {
    for (const { prefix, database } of namespaces.values()) {
      await deleteKeys(redis, prefix);
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
    await redis.quit();
    rmSync(root, { recursive: true, force: true });
  }
});

/** Receipts stored in a database of the server. */
async function receiptsIn(database: string): Promise<number> {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: string }>('SELECT count(*) AS n FROM attestor.rekor_entries');
    return Number(rows[0]!.n);
  } finally {
    await c.end();
  }
}

interface Summary {
  tenants: { tenant: string; submitted: number; created: number; parkedForBudget: number; lost: number }[];
  lost: number;
  unverified: number;
}

test('two `demo --once` runs in two clones, side by side, with no flags: both complete, each on its own state', async () => {
  const clones = twoClones('demo');
  const runs = await Promise.all(clones.map((cwd) => runCli(['demo', '--once', '--json'], { cwd, env })));
  const chosen = runs.map((r) => namespaceOf(r.stderr));
  chosen.forEach((ns, i) => namespaces.set(`demo-${i}`, ns));
  expect(chosen[0]!.prefix).not.toBe(chosen[1]!.prefix);
  expect(chosen[0]!.database).not.toBe(chosen[1]!.database);
  // the demo's namespace is apart from what `start` keeps in the same checkout
  for (const ns of chosen)
    expect(ns).toEqual({
      prefix: expect.stringMatching(/-demo$/),
      database: expect.stringMatching(/_demo$/),
    });
  for (const r of runs) {
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary).toMatchObject({ lost: 0, unverified: 0 });
    // each run saw exactly its own workload: no job of the other run was processed here
    const acme = summary.tenants.find((t) => t.tenant.startsWith('acme'))!;
    expect(acme).toMatchObject({ submitted: 46, created: 46, parkedForBudget: 12, lost: 0 });
  }
  // each database holds its own run's receipts only
  for (const { database } of chosen) expect(await receiptsIn(database)).toBe(84);
});

/** A running `rekor-budget start`, its output so far, and a way to wait for a line. */
function start(cwd: string) {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'start'], {
    cwd,
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      const m = w.re.exec(out);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on('data', (d) => {
    out += d;
    check();
  });
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => out,
    errors: () => err,
    /** Resolves when stdout matches; rejects if the process ends first. */
    waitFor: (re: RegExp) =>
      Promise.race([
        new Promise<RegExpExecArray>((resolve) => {
          waiters.push({ re, resolve });
          check();
        }),
        exited.then((code) => {
          throw new Error(`start exited (${code}) before ${re}:\n${out}\n${err}`);
        }),
      ]),
  };
}

test('two `start` runs (npm start) in two clones, side by side, with no flags: each reaches its demo end state', async () => {
  const clones = twoClones('start');
  const runs = clones.map(start);
  try {
    const dashboards = await Promise.all(
      runs.map((r) => r.waitFor(/dashboard (http:\/\/127\.0\.0\.1:\d+)\/budgets/)),
    );
    runs.forEach((r, i) => namespaces.set(`start-${i}`, namespaceOf(r.output())));
    expect(dashboards[0]![1]).not.toBe(dashboards[1]![1]);
    // the end state of the demo: everything sent, the outage drained, acme's 12 parked for its budget
    await Promise.all(runs.map((r) => r.waitFor(/demo workload sent/)));
    await Promise.all(
      runs.map((r) =>
        r.waitFor(
          /graph: 0 waiting, 0 running, 12 parked for budget \|.*offline queue now 0 \| receipts 72 \|/,
        ),
      ),
    );
    for (const r of runs) {
      r.child.kill('SIGINT');
      expect(await r.exited).toBe(0);
      expect(r.output()).toContain('stopped');
    }
    // a demo run afterwards in one of these checkouts leaves what start keeps alone
    const startNs = namespaceOf(runs[0]!.output());
    const demo = await runCli(['demo', '--once', '--json'], { cwd: clones[0]!, env });
    const demoNs = namespaceOf(demo.stderr);
    namespaces.set('start-demo', demoNs);
    expect(demo.code).toBe(0);
    expect(demoNs.prefix).not.toBe(startNs.prefix);
    expect(demoNs.database).not.toBe(startNs.database);
    expect(await receiptsIn(startNs.database)).toBe(72);
  } finally {
    for (const r of runs) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await Promise.all(runs.map((r) => r.exited));
  }
});

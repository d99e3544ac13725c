import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createDb, migrateToLatest } from '@rekor-budget/db';
import { answers } from './services';

/**
 * Private Redis and Postgres instances for fault tests: each on its own port
 * and directory, stopped, killed, frozen and restarted by the test. The
 * machine's shared services are never touched.
 */

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Starts it again on the same port and directory (its AOF is replayed). */
  start(): Promise<void>;
  /** A clean shutdown (SHUTDOWN: writes what it holds). */
  stop(): Promise<void>;
  /** SIGKILL: no chance to write anything more. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: connections stay open, nothing is answered meanwhile. */
  freeze(): void;
  thaw(): void;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
}

/**
 * A `redis-server` of its own, never evicting keys. `durable` (default true)
 * runs it with `appendonly yes` and `appendfsync always`, the persistence the
 * workers require.
 */
export async function startPrivateRedis(options: { durable?: boolean } = {}): Promise<PrivateRedis> {
  const durable = options.durable ?? true;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rb-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    durable ? 'yes' : 'no',
    '--appendfsync',
    'always',
    // never evict: a queue whose keys Redis may drop is not what any deployment runs
    '--maxmemory-policy',
    'noeviction',
  ];
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => c.once('exit', () => r()));

  const self: PrivateRedis = {
    url,
    port,
    async start() {
      const c = spawn('redis-server', args, { stdio: 'ignore' });
      child = c;
      await until(() => answers(url, port, 200), `redis-server on port ${port}`);
    },
    async stop() {
      if (!child) return;
      const c = child;
      child = undefined;
      c.kill('SIGTERM'); // redis-server shuts down cleanly on SIGTERM
      await exited(c);
    },
    async kill() {
      if (!child) return;
      const c = child;
      child = undefined;
      c.kill('SIGCONT');
      c.kill('SIGKILL');
      await exited(c);
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    thaw() {
      child?.kill('SIGCONT');
    },
    async destroy() {
      await self.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await self.start();
  return self;
}

export interface PrivatePostgres {
  /** URL of a migrated database `rekor` on it. */
  url: string;
  port: number;
  start(): Promise<void>;
  /** A fast shutdown (`pg_ctl stop -m fast`). */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

/** The directory of PostgreSQL's server programs (initdb, pg_ctl). */
function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error('no PostgreSQL server programs under /usr/lib/postgresql (Debian package postgresql)');
  }
  return join(base, versions[0]!, 'bin');
}

/**
 * A PostgreSQL cluster of its own (initdb in a temporary directory, as the
 * `postgres` user when run as root), with a migrated database `rekor`.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBin();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rb-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const pw = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('postgres:'))
      ?.split(':');
    if (!pw) throw new Error('running as root needs a postgres user to run initdb');
    chownSync(dir, Number(pw[2]), Number(pw[3]));
  }
  const run = (program: string, args: string[]) => {
    const cmd = asRoot ? 'runuser' : join(bin, program);
    const argv = asRoot ? ['-u', 'postgres', '--', join(bin, program), ...args] : args;
    const r = spawnSync(cmd, argv, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${program} failed: ${r.stderr || r.stdout}`);
  };
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const self: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/rekor`,
    port,
    async start() {
      run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
      await until(() => answers(`postgres://127.0.0.1:${port}`, port, 200), `postgres on port ${port}`);
    },
    async stop() {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    async destroy() {
      if (existsSync(join(data, 'postmaster.pid')))
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await self.start();
  const admin = createDb({ url: `postgres://postgres@127.0.0.1:${port}/postgres`, max: 1 });
  try {
    await sql`CREATE DATABASE rekor`.execute(admin);
  } finally {
    await admin.destroy();
  }
  const db = createDb({ url: self.url, max: 1 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  return self;
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './private-services';
import { answers } from './services';

/**
 * Private Redis topologies for tests: a Redis Cluster of three masters, and
 * a Sentinel set-up (one master, one replica, one sentinel). Every node runs
 * with the persistence the workers require (AOF, `appendfsync always`,
 * `noeviction`) on a loopback port of its own; the machine's shared Redis is
 * never touched.
 */

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const DURABLE = [
  '--appendonly',
  'yes',
  '--appendfsync',
  'always',
  '--maxmemory-policy',
  'noeviction',
  '--save',
  '',
];

interface Node {
  port: number;
  dir: string;
  child: ChildProcess | undefined;
  args: string[];
}

function exited(c: ChildProcess): Promise<void> {
  return c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => c.once('exit', () => r()));
}

async function startNode(node: Node): Promise<void> {
  node.child = spawn('redis-server', node.args, { stdio: 'ignore' });
  await until(
    () => answers(`redis://127.0.0.1:${node.port}`, node.port, 200),
    `redis-server on port ${node.port}`,
  );
}

async function killNode(node: Node): Promise<void> {
  const c = node.child;
  node.child = undefined;
  if (!c) return;
  c.kill('SIGCONT');
  c.kill('SIGKILL');
  await exited(c);
}

async function newNode(extra: (port: number, dir: string) => string[]): Promise<Node> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rb-redis-node-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...DURABLE, ...extra(port, dir)];
  return { port, dir, child: undefined, args };
}

export interface PrivateCluster {
  /** `host:port` of each master, as `redis.cluster.nodes` takes them. */
  nodes: string[];
  /** Stops every node and removes their directories. */
  destroy(): Promise<void>;
}

/**
 * A Redis Cluster of three masters (no replicas) on free loopback ports,
 * created with `redis-cli --cluster create`; resolves once every slot is
 * served (`cluster_state:ok`).
 */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const nodes: Node[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await newNode((_, dir) => [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, 'nodes.conf'),
          '--cluster-node-timeout',
          '2000',
        ]),
      );
    }
    for (const n of nodes) await startNode(n);
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (created.status !== 0) {
      throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    }
    for (const n of nodes) {
      const r = new Redis(n.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await until(async () => {
          const info = (await r.cluster('INFO')) as string;
          return info.includes('cluster_state:ok');
        }, `cluster_state:ok on port ${n.port}`);
      } finally {
        r.disconnect();
      }
    }
    return {
      nodes: addresses,
      async destroy() {
        for (const n of nodes) {
          await killNode(n);
          rmSync(n.dir, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    for (const n of nodes) {
      await killNode(n);
      rmSync(n.dir, { recursive: true, force: true });
    }
    throw e;
  }
}

export interface PrivateSentinel {
  /** The master name the sentinel watches. */
  name: string;
  /** `host:port` of the sentinel, as `redis.sentinel.nodes` takes them. */
  sentinels: string[];
  /** The port of the node that is master now (asks the sentinel). */
  masterPort(): Promise<number>;
  /** SIGKILLs the current master and waits until the sentinel promoted the replica. */
  failover(): Promise<void>;
  /**
   * A standalone copy of the master the last `failover()` killed, started
   * from a copy of its directory: its AOF (`appendfsync always`) holds every
   * write it acknowledged, so comparing it with the promoted replica shows
   * what asynchronous replication lost. Stopped by `destroy()` as well.
   */
  formerMaster(): Promise<{ url: string; stop(): Promise<void> }>;
  destroy(): Promise<void>;
}

/**
 * One master, one replica and one sentinel (quorum 1, down after 1 s,
 * failover timeout 5 s) on free loopback ports; resolves once the replica is
 * in sync and the sentinel knows both.
 */
export async function startPrivateSentinel(name = 'rekor-budget'): Promise<PrivateSentinel> {
  const started: Node[] = [];
  const cleanup = async () => {
    for (const n of started) {
      await killNode(n);
      rmSync(n.dir, { recursive: true, force: true });
    }
  };
  try {
    const master = await newNode(() => []);
    started.push(master);
    await startNode(master);
    const replica = await newNode(() => ['--replicaof', '127.0.0.1', String(master.port)]);
    started.push(replica);
    await startNode(replica);
    const r = new Redis(replica.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await until(
        async () => ((await r.info('replication')) as string).includes('master_link_status:up'),
        'the replica in sync',
      );
    } finally {
      r.disconnect();
    }
    const sentinelPort = await freePort();
    const sentinelDir = mkdtempSync(join(tmpdir(), 'rb-sentinel-'));
    const conf = join(sentinelDir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${sentinelDir}`,
        `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    const sentinel: Node = {
      port: sentinelPort,
      dir: sentinelDir,
      child: undefined,
      args: [conf, '--sentinel'],
    };
    started.push(sentinel);
    await startNode(sentinel);
    const ask = new Redis(sentinelPort, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    let killed: Node | undefined;
    const masterPort = async () => {
      const addr = (await ask.call('SENTINEL', 'get-master-addr-by-name', name)) as [string, string] | null;
      return Number(addr?.[1] ?? 0);
    };
    await until(async () => {
      const replicas = (await ask.call('SENTINEL', 'replicas', name)) as unknown[];
      return (await masterPort()) === master.port && replicas.length === 1;
    }, 'the sentinel to see the master and its replica');
    return {
      name,
      sentinels: [`127.0.0.1:${sentinelPort}`],
      masterPort,
      async failover() {
        const before = await masterPort();
        const victim = started.find((n) => n.port === before);
        if (victim) {
          await killNode(victim);
          killed = victim;
        }
        await until(async () => {
          const now = await masterPort();
          return now !== before && now !== 0;
        }, 'the sentinel to promote the replica');
      },
      async formerMaster() {
        if (!killed) throw new Error('formerMaster() needs a failover() first');
        const dir = mkdtempSync(join(tmpdir(), 'rb-former-master-'));
        cpSync(killed.dir, dir, { recursive: true });
        const port = await freePort();
        const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...DURABLE];
        const copy: Node = { port, dir, child: undefined, args };
        started.push(copy);
        await startNode(copy);
        return {
          url: `redis://127.0.0.1:${port}`,
          async stop() {
            await killNode(copy);
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
      async destroy() {
        ask.disconnect();
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

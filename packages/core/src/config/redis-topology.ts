import { z } from 'zod';
import { redactUrl } from '../redact';

/**
 * Where Redis is: one server (`redis.url`), a Redis Cluster
 * (`redis.cluster.nodes`) or a master watched by Redis Sentinel
 * (`redis.sentinel`). A deployment sets exactly one; with none set it is the
 * single Redis at `redis://127.0.0.1:6379`.
 */

/** One `host:port` of a cluster node or a sentinel. */
export interface RedisNode {
  host: string;
  port: number;
}

interface Credentials {
  /** ACL user (Redis 6+); without it the `default` user. */
  username?: string;
  password?: string;
}

/** The Redis a deployment uses, as packages receive it (`RekorConfig['redis']` without prefix and durability). */
export type RedisTopologyConfig =
  | ({ topology: 'single'; url: string } & Credentials)
  | ({ topology: 'cluster'; nodes: RedisNode[] } & Credentials)
  | ({
      topology: 'sentinel';
      /** The master name the sentinels watch (`sentinel monitor <name> ...`). */
      name: string;
      /** The sentinels (not the data nodes: those are found through them). */
      nodes: RedisNode[];
      /** The sentinels' own ACL user, when they require one. */
      sentinelUsername?: string;
      /** The sentinels' own password (`requirepass` in sentinel.conf), when they require one. */
      sentinelPassword?: string;
    } & Credentials);

export type RedisTopology = RedisTopologyConfig['topology'];

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const DEFAULT_PORT = { cluster: 6379, sentinel: 26379 } as const;

interface ParsedNode extends RedisNode, Credentials {
  tls: boolean;
}

/** `host:port`, `host` or `redis://[user:password@]host:port`; `undefined` when it is none of them. */
function parseNode(text: string, defaultPort: number): ParsedNode | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `redis://${text}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return undefined;
  if (u.hostname === '' || (u.pathname !== '' && u.pathname !== '/') || u.search !== '' || u.hash !== '') {
    return undefined;
  }
  const port = u.port === '' ? defaultPort : Number(u.port);
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    tls: u.protocol === 'rediss:',
    ...(username === '' ? {} : { username }),
    ...(password === '' ? {} : { password }),
  };
}

/**
 * A list of nodes: a YAML list, or one comma-separated string (what
 * `REDIS_CLUSTER_NODES` / `REDIS_SENTINEL_NODES` hold).
 */
export function redisNodes(kind: 'cluster' | 'sentinel', example: string) {
  const message = `is not a list of Redis nodes; use host:port items or one comma-separated string, e.g. "${example}"`;
  return z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : v,
    z
      .array(z.string({ message: `is not a Redis node; use host:port, e.g. "${example.split(',')[0]}"` }), {
        message,
      })
      .superRefine((items, ctx) => {
        if (items.length === 0) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            message: `is empty; list at least one ${kind === 'cluster' ? 'cluster node' : 'sentinel'}, e.g. "${example}"`,
          });
        }
        items.forEach((item, i) => {
          const node = parseNode(item, DEFAULT_PORT[kind]);
          if (node === undefined) {
            ctx.addIssue({
              code: z.ZodIssueCode.custom,
              path: [i],
              message: `is not a Redis node; use host:port or redis://host:port, e.g. "${example.split(',')[0]}"`,
            });
          } else if (node.tls) {
            ctx.addIssue({
              code: z.ZodIssueCode.custom,
              path: [i],
              message: `asks for TLS, which is not supported for ${kind === 'cluster' ? 'cluster nodes' : 'sentinels'} yet; use redis://host:port on a trusted network, or a single Redis at a rediss:// redis.url`,
            });
          }
        });
      }),
  );
}

/** The raw `redis` section, as the schema reads it (before the transform). */
interface RawRedis extends Credentials {
  url?: string | undefined;
  cluster?: { nodes: string[] } | undefined;
  sentinel?: ({ name: string; nodes: string[] } & Credentials) | undefined;
}

type Issue = (path: (string | number)[], message: string) => void;

/** The node list's one pair of URL credentials; `null` when nodes disagree. */
function nodeCredentials(items: readonly string[], defaultPort: number): Credentials | null {
  const seen = new Set<string>();
  let found: Credentials = {};
  for (const item of items) {
    const n = parseNode(item, defaultPort);
    if (!n || (n.username === undefined && n.password === undefined)) continue;
    seen.add(JSON.stringify([n.username, n.password]));
    found = { username: n.username, password: n.password };
  }
  return seen.size > 1 ? null : found;
}

/** Cross-field rules of `redis`: one topology, credentials said once. */
export function checkRedisTopology(r: RawRedis, issue: Issue): void {
  const set = [
    r.url !== undefined ? 'redis.url' : undefined,
    r.cluster !== undefined ? 'redis.cluster' : undefined,
    r.sentinel !== undefined ? 'redis.sentinel' : undefined,
  ].filter((k): k is string => k !== undefined);
  if (set.length > 1) {
    const path = r.url !== undefined ? ['redis', 'url'] : ['redis', 'sentinel', 'nodes'];
    const others = set.filter((k) => k !== (r.url !== undefined ? 'redis.url' : 'redis.sentinel'));
    issue(
      path,
      `is set together with ${others.join(' and ')}; a deployment uses exactly one of redis.url (one Redis server), redis.cluster (Redis Cluster) or redis.sentinel (Redis Sentinel), so remove the others (the environment sets them too: REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINEL_NODES)`,
    );
    return;
  }
  for (const [kind, nodes] of [
    ['cluster', r.cluster?.nodes],
    ['sentinel', r.sentinel?.nodes],
  ] as const) {
    if (nodes === undefined) continue;
    const creds = nodeCredentials(nodes, DEFAULT_PORT[kind]);
    if (creds === null) {
      issue(
        ['redis', kind, 'nodes'],
        'carry different credentials; give every node the same user and password, or leave them out of the nodes and set them once',
      );
    }
  }
  const clusterCreds = r.cluster ? nodeCredentials(r.cluster.nodes, DEFAULT_PORT.cluster) : undefined;
  let urlPassword: string | undefined;
  if (r.url !== undefined) {
    try {
      urlPassword = decodeURIComponent(new URL(r.url).password) || undefined;
    } catch {
      // the url's own rule reports it
    }
  }
  const inline = clusterCreds?.password ?? urlPassword;
  if (r.password !== undefined && inline !== undefined && inline !== r.password) {
    issue(
      ['redis', 'password'],
      `differs from the password in ${r.url !== undefined ? 'redis.url' : 'redis.cluster.nodes'}; set the password in one place only`,
    );
  }
  const sentinelCreds = r.sentinel ? nodeCredentials(r.sentinel.nodes, DEFAULT_PORT.sentinel) : undefined;
  if (
    r.sentinel?.password !== undefined &&
    sentinelCreds?.password !== undefined &&
    sentinelCreds.password !== r.sentinel.password
  ) {
    issue(
      ['redis', 'sentinel', 'password'],
      'differs from the password in redis.sentinel.nodes; set the sentinels’ password in one place only',
    );
  }
}

function node(text: string, defaultPort: number): RedisNode {
  const n = parseNode(text, defaultPort)!;
  return { host: n.host, port: n.port };
}

const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** The validated `redis` section as the topology packages receive. */
export function redisTopology(r: RawRedis): RedisTopologyConfig {
  if (r.cluster) {
    const creds = nodeCredentials(r.cluster.nodes, DEFAULT_PORT.cluster) ?? {};
    return defined({
      topology: 'cluster',
      nodes: r.cluster.nodes.map((n) => node(n, DEFAULT_PORT.cluster)),
      username: r.username ?? creds.username,
      password: r.password ?? creds.password,
    });
  }
  if (r.sentinel) {
    const creds = nodeCredentials(r.sentinel.nodes, DEFAULT_PORT.sentinel) ?? {};
    return defined({
      topology: 'sentinel',
      name: r.sentinel.name,
      nodes: r.sentinel.nodes.map((n) => node(n, DEFAULT_PORT.sentinel)),
      username: r.username,
      password: r.password,
      sentinelUsername: r.sentinel.username ?? creds.username,
      sentinelPassword: r.sentinel.password ?? creds.password,
    });
  }
  return defined({
    topology: 'single',
    url: r.url ?? DEFAULT_REDIS_URL,
    username: r.username,
    password: r.password,
  });
}

/** `host:port` (IPv6 hosts in brackets). */
export function formatRedisNode(n: RedisNode): string {
  return `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`;
}

/** Where Redis is, for messages and logs: never with credentials. */
export function describeRedis(r: RedisTopologyConfig): string {
  switch (r.topology) {
    case 'single':
      return `Redis at ${redactUrl(r.url)}`;
    case 'cluster':
      return `Redis Cluster at ${r.nodes.map(formatRedisNode).join(', ')}`;
    case 'sentinel':
      return `Redis Sentinel master "${r.name}" via ${r.nodes.map(formatRedisNode).join(', ')}`;
  }
}

/** The key and variable that say where Redis is, for "point X at a running Redis" hints. */
export function redisLocationKey(r: RedisTopologyConfig): { key: string; env: string } {
  switch (r.topology) {
    case 'single':
      return { key: 'redis.url', env: 'REDIS_URL' };
    case 'cluster':
      return { key: 'redis.cluster.nodes', env: 'REDIS_CLUSTER_NODES' };
    case 'sentinel':
      return { key: 'redis.sentinel.nodes', env: 'REDIS_SENTINEL_NODES' };
  }
}

/**
 * The environment variables that select this Redis (credentials included):
 * what a process passes to the processes it starts.
 */
export function redisEnv(r: RedisTopologyConfig): Record<string, string | undefined> {
  const creds = { REDIS_USERNAME: r.username, REDIS_PASSWORD: r.password };
  switch (r.topology) {
    case 'single':
      return { REDIS_URL: r.url, ...creds };
    case 'cluster':
      return { REDIS_CLUSTER_NODES: r.nodes.map(formatRedisNode).join(','), ...creds };
    case 'sentinel':
      return {
        REDIS_SENTINEL_NAME: r.name,
        REDIS_SENTINEL_NODES: r.nodes.map(formatRedisNode).join(','),
        REDIS_SENTINEL_USERNAME: r.sentinelUsername,
        REDIS_SENTINEL_PASSWORD: r.sentinelPassword,
        ...creds,
      };
  }
}

/** The topology in the configuration file's own keys (the inverse of `redisTopology`). */
export function redisFileShape(r: RedisTopologyConfig): Record<string, unknown> {
  const creds = defined({ username: r.username, password: r.password });
  switch (r.topology) {
    case 'single':
      return { url: r.url, ...creds };
    case 'cluster':
      return { cluster: { nodes: r.nodes.map(formatRedisNode) }, ...creds };
    case 'sentinel':
      return {
        sentinel: defined({
          name: r.name,
          nodes: r.nodes.map(formatRedisNode),
          username: r.sentinelUsername,
          password: r.sentinelPassword,
        }),
        ...creds,
      };
  }
}

import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { formatRedisNode, type RedisTopologyConfig } from './config/redis-topology';

/**
 * The one place a rekor-budget process opens Redis: a single server, a Redis
 * Cluster or a Sentinel-watched master, from `RekorConfig['redis']`. Workers,
 * producer, CLI, dashboard and drain all get their connections here, so a
 * topology works everywhere or nowhere.
 */

/** A connection to the configured Redis: `Cluster` for Redis Cluster, else `Redis`. */
export type RedisConnection = Redis | Cluster;

/**
 * What a caller sets on the connection, in single-server terms; for a
 * cluster each node connection gets them, and the cluster-wide options are
 * derived (`enableOfflineQueue`, `lazyConnect`, `retryStrategy` as
 * `clusterRetryStrategy`).
 */
export type RedisConnectionOptions = Pick<
  RedisOptions,
  | 'maxRetriesPerRequest'
  | 'connectTimeout'
  | 'enableOfflineQueue'
  | 'lazyConnect'
  | 'retryStrategy'
  | 'enableAutoPipelining'
  | 'commandTimeout'
  | 'connectionName'
>;

/** Opens a connection to the configured Redis (connecting at once unless `lazyConnect`). */
export function createRedisConnection(
  config: RedisTopologyConfig,
  options: RedisConnectionOptions = {},
): RedisConnection {
  const auth = {
    ...(config.username === undefined ? {} : { username: config.username }),
    ...(config.password === undefined ? {} : { password: config.password }),
  };
  switch (config.topology) {
    case 'single':
      // URL credentials win; `auth` fills in what the URL leaves out
      return new Redis(config.url, { ...auth, ...options });
    case 'sentinel':
      return new Redis({
        ...auth,
        ...options,
        name: config.name,
        sentinels: config.nodes.map((n) => ({ host: n.host, port: n.port })),
        ...(config.sentinelUsername === undefined ? {} : { sentinelUsername: config.sentinelUsername }),
        ...(config.sentinelPassword === undefined ? {} : { sentinelPassword: config.sentinelPassword }),
        // failoverDetector stays off: its sentinel subscriptions outlive quit() (ioredis 5.11);
        // a lost master is left on reconnect anyway, when the sentinels name the promoted replica
      });
    case 'cluster': {
      const { enableOfflineQueue, lazyConnect, retryStrategy, enableAutoPipelining, ...perNode } = options;
      const clusterOptions: ClusterOptions = {
        redisOptions: { ...auth, ...perNode },
        ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
        ...(lazyConnect === undefined ? {} : { lazyConnect }),
        ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
        ...(typeof retryStrategy === 'function'
          ? { clusterRetryStrategy: (times) => retryStrategy(times) }
          : {}),
      };
      return new Cluster(
        config.nodes.map((n) => ({ host: n.host, port: n.port })),
        clusterOptions,
      );
    }
  }
}

/**
 * The servers that hold the data now: every master of a cluster, else the
 * connection itself (with Sentinel, the current master). Ask them for
 * server-wide settings (`CONFIG GET`, `INFO`), which a cluster connection
 * would send to one node only.
 */
export function redisMasters(redis: RedisConnection): { address: string; client: Redis }[] {
  if (redis.isCluster) {
    return (redis as Cluster).nodes('master').map((client) => ({ address: addressOf(client), client }));
  }
  return [{ address: addressOf(redis as Redis), client: redis as Redis }];
}

/** `host:port` the client is connected to (with Sentinel, the master it found), else the one configured. */
function addressOf(client: Redis): string {
  const socket = client.stream as { remoteAddress?: string; remotePort?: number } | undefined;
  if (socket?.remoteAddress !== undefined && socket.remotePort !== undefined) {
    return formatRedisNode({ host: socket.remoteAddress, port: socket.remotePort });
  }
  return formatRedisNode({ host: client.options.host ?? '127.0.0.1', port: client.options.port ?? 6379 });
}

/** How long `awaitReplicas` waits for a replica by default. */
export const REPLICA_WAIT_MS = 500;

/**
 * With Sentinel, waits (Redis `WAIT`, at most `timeoutMs`) until a replica
 * holds every write this connection made so far, before the caller answers
 * `queued` or deletes its Postgres copy: a failover then promotes a replica
 * that has them. Replication stays asynchronous: a replica that lags past the
 * timeout is not waited for (the answer says so), so the window narrows to
 * that lag without stalling the system on a replica that is gone. A single
 * Redis and a cluster answer `true` at once (a cluster's replicas are its
 * own business; `WAIT` on one connection would ask one node only).
 *
 * Resolves whether a replica acknowledged (or none was asked).
 */
export async function awaitReplicas(
  redis: RedisConnection,
  topology: RedisTopologyConfig['topology'],
  timeoutMs = REPLICA_WAIT_MS,
): Promise<boolean> {
  if (topology !== 'sentinel' || redis.isCluster) return true;
  return (await (redis as Redis).wait(1, timeoutMs)) >= 1;
}

import { Cluster } from 'ioredis';
import { createRedisConnection, type RedisTopologyConfig } from '@rekor-budget/core';
import pg from 'pg';

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/** Asks the configured Redis (a server, a cluster, or the master Sentinel names) once, without retrying. */
export async function probeRedis(config: RedisTopologyConfig, timeoutMs = 2000): Promise<ProbeResult> {
  const redis = createRedisConnection(config, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // the connection error is the probe's answer: keep it for the detail
  let lastError: Error | undefined;
  redis.on('error', (e: Error) => (lastError = e));
  let timer: NodeJS.Timeout | undefined;
  try {
    // a cluster that never gets its slots neither resolves nor fails: the deadline decides
    await Promise.race([
      redis.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const shape =
      redis instanceof Cluster
        ? `, cluster of ${redis.nodes('master').length} masters`
        : config.topology === 'sentinel'
          ? `, master "${config.name}" via Sentinel`
          : '';
    return { ok: true, detail: `Redis ${version}${shape}` };
  } catch (e) {
    return { ok: false, detail: (lastError ?? (e as Error)).message };
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/** Connects to Postgres once and reads its version. */
export async function probePostgres(url: string, timeoutMs = 2000): Promise<ProbeResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  // the connection error is the probe's answer: keep it for the detail
  let lastError: Error | undefined;
  client.on('error', (e: Error) => (lastError = e));
  let connected = false;
  try {
    await client.connect();
    connected = true;
    const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return { ok: true, detail: `PostgreSQL ${rows[0]?.v ?? 'unknown'}` };
  } catch (e) {
    return { ok: false, detail: (lastError ?? (e as Error)).message || String(e) };
  } finally {
    if (connected) await client.end();
  }
}

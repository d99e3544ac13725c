import { Redis } from 'ioredis';
import pg from 'pg';

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/** PINGs Redis once, without retrying. */
export async function probeRedis(url: string, timeoutMs = 2000): Promise<ProbeResult> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // the connection error is the probe's answer: keep it for the detail
  let lastError: Error | undefined;
  redis.on('error', (e: Error) => (lastError = e));
  try {
    await redis.connect();
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    return { ok: true, detail: `Redis ${version}` };
  } catch (e) {
    return { ok: false, detail: (lastError ?? (e as Error)).message };
  } finally {
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

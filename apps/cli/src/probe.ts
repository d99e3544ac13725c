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
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    return { ok: true, detail: `Redis ${version}` };
  } catch (e) {
    return { ok: false, detail: (e as Error).message };
  } finally {
    redis.disconnect();
  }
}

/** Connects to Postgres once and reads its version. */
export async function probePostgres(url: string, timeoutMs = 2000): Promise<ProbeResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return { ok: true, detail: `PostgreSQL ${rows[0]?.v ?? 'unknown'}` };
  } catch (e) {
    return { ok: false, detail: (e as Error).message || String(e) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** GETs Rekor's log info (`/api/v1/log`). */
export async function probeRekor(serverUrl: string, timeoutMs = 3000): Promise<ProbeResult> {
  try {
    const res = await fetch(`${serverUrl}/api/v1/log`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { ok: false, detail: `HTTP ${res.status}` };
    const body = (await res.json()) as { treeSize?: number };
    return { ok: true, detail: `tree size ${body.treeSize ?? '?'}` };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    return { ok: false, detail: cause ?? (e as Error).message };
  }
}

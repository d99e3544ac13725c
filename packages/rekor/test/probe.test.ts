import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { createRekorClient, type RekorClient, type RekorError } from '@rekor-budget/rekor';
import { answer, closedPort, codeOf, scriptedLog } from './fixtures';

const dataDir = mkdtempSync(join(tmpdir(), 'rb-rekor-probe-'));
let server: RekorLocalServer;
const clients: RekorClient[] = [];

function clientOf(serverUrl: string, timestampAuthorityUrl?: string): RekorClient {
  const c = createRekorClient({
    serverUrl,
    requestTimeoutMs: 5_000,
    ...(timestampAuthorityUrl === undefined ? {} : { timestampAuthorityUrl }),
  });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  server = await startRekorLocal({ port: 0, dataDir, faults: true, fsync: false });
});
afterEach(() => server.faults.clear());
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('client.probe()', () => {
  test('a log that is up: reachable, with its tree size', async () => {
    const result = await clientOf(server.url).probe();
    expect(result).toEqual({
      reachable: true,
      detail: `tree size ${server.treeSize()}`,
      treeSize: server.treeSize(),
      latencyMs: expect.any(Number),
    });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  test('a log that was stopped: not reachable (ECONNREFUSED)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-rekor-probe-stopped-'));
    const stopped = await startRekorLocal({ port: 0, dataDir: dir, fsync: false });
    const url = stopped.url;
    await stopped.close();
    rmSync(dir, { recursive: true, force: true });
    expect(await clientOf(url).probe()).toEqual({
      reachable: false,
      detail: 'ECONNREFUSED',
      latencyMs: expect.any(Number),
    });
  });

  test('the same client follows the log down (offline fault) and back up', async () => {
    const client = clientOf(server.url);
    expect((await client.probe()).reachable).toBe(true);
    server.faults.set({ mode: 'offline' });
    // a pooled connection closed by the log may answer with a reset first
    let down = await client.probe();
    while (down.detail === 'ECONNRESET') down = await client.probe();
    expect(down).toMatchObject({ reachable: false, detail: 'ECONNREFUSED' });
    server.faults.clear();
    let up = await client.probe();
    while (!up.reachable) up = await client.probe();
    expect(up.detail).toMatch(/^tree size \d+$/);
  });

  test('a 503: not reachable, "HTTP 503"', async () => {
    server.faults.set({ mode: '503', count: 1 });
    expect(await clientOf(server.url).probe()).toMatchObject({ reachable: false, detail: 'HTTP 503' });
    expect(server.faults.current()).toBeUndefined();
  });

  test('a 2xx that is not log info (a proxy page, a broken log): not reachable', async () => {
    server.faults.set({ mode: 'malformed', count: 1 });
    const result = await clientOf(server.url).probe();
    expect(result).toMatchObject({ reachable: false, detail: 'HTTP 200, not Rekor log info' });
    expect(result).not.toHaveProperty('treeSize');
  });

  test('a log that never answers: not reachable after timeoutMs', async () => {
    const silent = await scriptedLog(() => undefined);
    try {
      const result = await clientOf(silent.url).probe({ timeoutMs: 200 });
      expect(result).toMatchObject({ reachable: false, detail: 'no answer within 200 ms' });
      expect(result.latencyMs).toBeGreaterThanOrEqual(190);
      expect(result.latencyMs).toBeLessThan(5_000);
    } finally {
      await silent.close();
    }
  });

  test('a name that does not resolve: not reachable (ENOTFOUND or EAI_AGAIN)', async () => {
    const result = await clientOf('http://rekor.does-not-exist.invalid').probe();
    expect(result.reachable).toBe(false);
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain(result.detail);
  });

  test('a timeout that is not a positive whole number is INVALID_OPTIONS', async () => {
    expect(await codeOf(() => clientOf(server.url).probe({ timeoutMs: 0 }))).toBe('INVALID_OPTIONS');
    expect(await codeOf(() => clientOf(server.url).probe({ timeoutMs: 1.5 }))).toBe('INVALID_OPTIONS');
  });
});

describe('client.probeTimestampAuthority()', () => {
  test('without a timestamp authority there is nothing to ask', async () => {
    expect(await clientOf(server.url).probeTimestampAuthority()).toBeUndefined();
  });

  test("rekor-local's timestamp authority grants the probe a timestamp", async () => {
    const url = `${server.url}/api/v1/timestamp`;
    expect(await clientOf(server.url, url).probeTimestampAuthority()).toEqual({
      reachable: true,
      url,
      detail: 'granted',
      latencyMs: expect.any(Number),
    });
  });

  test('an error status, an answer that is no timestamp, or nobody listening: not reachable, and why', async () => {
    const tsa = await scriptedLog((_req, res, n) =>
      n === 1 ? answer(res, 503, 'down for maintenance') : answer(res, 200, 'not DER'),
    );
    try {
      const client = clientOf(server.url, `${tsa.url}/api/v1/timestamp`);
      expect(await client.probeTimestampAuthority()).toMatchObject({ reachable: false, detail: 'HTTP 503' });
      const garbled = await client.probeTimestampAuthority();
      expect(garbled).toMatchObject({ reachable: false, url: `${tsa.url}/api/v1/timestamp` });
      expect(garbled?.detail).toContain('not a TimeStampResp');
      expect(tsa.requests).toEqual(['POST /api/v1/timestamp', 'POST /api/v1/timestamp']);
    } finally {
      await tsa.close();
    }
    const closed = `http://127.0.0.1:${await closedPort()}/api/v1/timestamp`;
    expect(await clientOf(server.url, closed).probeTimestampAuthority()).toMatchObject({
      reachable: false,
      detail: 'ECONNREFUSED',
    });
  });
});

describe('client.logInfo()', () => {
  test('the log info of a log that is up', async () => {
    expect(await clientOf(server.url).logInfo()).toMatchObject({
      treeSize: server.treeSize(),
      rootHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  test('a log that does not answer is LOG_UNAVAILABLE; an HTTP error keeps its status', async () => {
    const closed = clientOf(`http://127.0.0.1:${await closedPort()}`);
    expect(await codeOf(() => closed.logInfo())).toBe('LOG_UNAVAILABLE');
    server.faults.set({ mode: '503', count: 1 });
    const err = await clientOf(server.url)
      .logInfo()
      .then(
        () => undefined,
        (e: RekorError) => e,
      );
    expect(err).toMatchObject({ code: 'LOG_UNAVAILABLE', status: 503 });
  });

  test('an answer that is not log info is INVALID_RESPONSE', async () => {
    server.faults.set({ mode: 'malformed', count: 1 });
    expect(await codeOf(() => clientOf(server.url).logInfo())).toBe('INVALID_RESPONSE');
  });
});

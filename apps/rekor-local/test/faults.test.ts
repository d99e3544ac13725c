import { request } from 'node:http';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { dsseEntry, newKey } from './helpers/proposed';
import { call, post, removeDir, tempDataDir } from './helpers/server';

const dataDir = tempDataDir();
let server: RekorLocalServer;
const key = newKey();

beforeAll(async () => {
  server = await startRekorLocal({ port: 0, dataDir, faults: true, adminPort: 0 });
});
afterEach(() => server.faults.clear());
afterAll(async () => {
  await server.close();
  removeDir(dataDir);
});

/** One request on a fresh connection; resolves to the status or the socket error code. */
function attempt(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(`${url}/api/v1/log`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'ERROR'));
    req.end();
  });
}

describe('fault injection', () => {
  test('429 with Retry-After for the next N requests, then normal again', async () => {
    server.faults.set({ mode: '429', count: 2, retryAfterSeconds: 7 });
    const a = await post(`${server.url}/api/v1/log/entries`, dsseEntry(key, Buffer.from('{"x":1}')));
    expect(a.status).toBe(429);
    expect(a.headers.get('retry-after')).toBe('7');
    expect(a.body).toEqual({ code: 429, message: expect.any(String) });
    expect((await call(`${server.url}/api/v1/log`)).status).toBe(429);
    expect((await call(`${server.url}/api/v1/log`)).status).toBe(200);
    expect(server.faults.current()).toBeUndefined();
  });

  test('503 until cleared, set and cleared over the admin endpoint', async () => {
    const set = await post(`${server.url}/admin/faults`, { mode: '503' });
    expect(set.status).toBe(200);
    expect(set.body.fault).toMatchObject({ mode: '503', remaining: null });
    for (let i = 0; i < 3; i++) expect((await call(`${server.url}/api/v1/log`)).status).toBe(503);
    expect((await call(`${server.url}/admin/faults`)).body.fault.mode).toBe('503');
    expect((await call(`${server.url}/admin/faults`, { method: 'DELETE' })).status).toBe(200);
    expect((await call(`${server.url}/api/v1/log`)).status).toBe(200);
  });

  test('malformed answers 201 to writes and 200 to reads with neither an entry nor log info; nothing is logged', async () => {
    const size = server.treeSize();
    server.faults.set({ mode: 'malformed', count: 2 });
    const created = await post(`${server.url}/api/v1/log/entries`, dsseEntry(key, Buffer.from('{"m":1}')));
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ message: expect.any(String) });
    const info = await call(`${server.url}/api/v1/log`);
    expect(info.status).toBe(200);
    expect(info.body).not.toHaveProperty('treeSize');
    expect((await call(`${server.url}/api/v1/log`)).body.treeSize).toBe(size);
    expect(server.treeSize()).toBe(size);
  });

  test('slow delays the answer', async () => {
    server.faults.set({ mode: 'slow', delayMs: 300, count: 1 });
    const started = Date.now();
    expect((await call(`${server.url}/api/v1/log`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  test('offline refuses connections until cleared from the admin listener', async () => {
    await post(`${server.adminUrl}/admin/faults`, { mode: 'offline' });
    expect(await attempt(server.url)).toBe('ECONNREFUSED');
    expect((await call(`${server.adminUrl}/admin/faults`)).body.fault.mode).toBe('offline');
    await call(`${server.adminUrl}/admin/faults`, { method: 'DELETE' });
    expect(await waitFor(async () => (await attempt(server.url)) === 200)).toBe(true);
  });

  test('offline set over the API listener itself is cleared with the in-process handle', async () => {
    const dir = tempDataDir();
    const solo = await startRekorLocal({ port: 0, dataDir: dir, faults: true });
    try {
      expect((await post(`${solo.url}/admin/faults`, { mode: 'offline' })).status).toBe(200);
      expect(await waitFor(async () => (await attempt(solo.url)) === 'ECONNREFUSED')).toBe(true);
      solo.faults.clear();
      expect(await waitFor(async () => (await attempt(solo.url)) === 200)).toBe(true);
    } finally {
      await solo.close();
      removeDir(dir);
    }
  });

  test('offline with a count resets that many connections while listening', async () => {
    server.faults.set({ mode: 'offline', count: 2 });
    expect(await attempt(server.url)).toBe('ECONNRESET');
    expect(await attempt(server.url)).toBe('ECONNRESET');
    expect(await attempt(server.url)).toBe(200);
  });

  test('bad fault specs are refused with 400', async () => {
    for (const bad of [
      { mode: 'explode' },
      { mode: '429', count: 0 },
      { mode: 'slow', delayMs: -1 },
      [],
      // longer than a timer can wait: it would fire at once
      { mode: 'slow', delayMs: 3_000_000_000 },
      { mode: '429', retryAfterSeconds: 10 ** 9 },
    ]) {
      const res = await post(`${server.url}/admin/faults`, bad);
      expect(res.status).toBe(400);
    }
    // a misspelled field is named, not dropped (a fault without its count would never end)
    const misspelled = await post(`${server.url}/admin/faults`, { mode: '503', cout: 1 });
    expect(misspelled.status).toBe(400);
    expect(JSON.stringify(misspelled.body)).toContain('fault.cout: not a fault field');
    expect(server.faults.current()).toBeUndefined();
    expect(() => server.faults.set({ mode: '503', count: 1.5 })).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }),
    );
  });

  test('a log started without faults refuses to set one', async () => {
    const dir = tempDataDir();
    const plain = await startRekorLocal({ port: 0, dataDir: dir });
    try {
      expect(() => plain.faults.set({ mode: '503' })).toThrow(
        expect.objectContaining({ code: 'FAULTS_DISABLED' }),
      );
    } finally {
      await plain.close();
      removeDir(dir);
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type Runtime } from '@rekor-budget/runtime';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import {
  createTestServices,
  startPrivateRedis,
  testConfig,
  waitFor,
  type TestServices,
} from '@rekor-budget/testing';

jest.setTimeout(30_000);

const dir = mkdtempSync(join(tmpdir(), 'rb-runtime-'));
let s: TestServices;
let rekor: RekorLocalServer;

beforeAll(async () => {
  s = await createTestServices('rt');
  rekor = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), fsync: false, faults: true });
});
afterAll(async () => {
  await rekor.close();
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Open sockets and timers of this process. */
function handles(): { sockets: number; timers: number } {
  const all = process.getActiveResourcesInfo();
  return {
    sockets: all.filter((r) => r === 'TCPSocketWrap').length,
    timers: all.filter((r) => r === 'Timeout').length,
  };
}

/** Waits until the sockets and timers are back to (at most) `before`: closed sockets go away asynchronously. */
async function backTo(before: { sockets: number; timers: number }): Promise<void> {
  await waitFor(
    () => {
      const now = handles();
      return now.sockets <= before.sockets && now.timers <= before.timers;
    },
    5_000,
    `sockets and timers back to ${JSON.stringify(before)} (now ${JSON.stringify(handles())})`,
  );
}

describe('createRuntime', () => {
  test('is ready against live services, and close() returns every socket and timer it opened', async () => {
    const before = handles();
    // unref()ed intervals (the clock re-sync) do not show as handles: watch them being cleared
    const intervals = new Set<unknown>();
    const realSetInterval = global.setInterval;
    const realClearInterval = global.clearInterval;
    const setSpy = jest.spyOn(global, 'setInterval').mockImplementation(((
      ...args: Parameters<typeof setInterval>
    ) => {
      const timer = realSetInterval(...args);
      intervals.add(timer);
      return timer;
    }) as typeof setInterval);
    const clearSpy = jest.spyOn(global, 'clearInterval').mockImplementation(((timer?: NodeJS.Timeout) => {
      intervals.delete(timer);
      realClearInterval(timer);
    }) as typeof clearInterval);
    const rt: Runtime = await createRuntime({ config: s.config({ serverUrl: rekor.url }), name: 'rt-test' });
    expect(await rt.readiness()).toEqual({
      redis: { ok: true },
      postgres: { ok: true },
      rekor: { ok: true, detail: expect.any(String) },
    });
    const probe = await rt.probeRekor();
    expect(probe).toMatchObject({ state: 'reachable', serverUrl: rekor.url });
    // the parts work together: a tenant's budget, the queues, the offline queue, receipts
    expect((await rt.budget.tryConsume('3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b', 'graph')).admitted).toBe(true);
    expect(await rt.queues.depth()).toEqual({ graph: 0, edge: 0 });
    expect(await rt.offline.size()).toBe(0);
    expect(await rt.receipts.count()).toBe(0);
    expect(Math.abs(rt.clock() - Date.now())).toBeLessThan(5_000);
    expect(await rt.registry.metrics()).toContain('attestor_rekor_budget_remaining');
    expect(intervals.size).toBe(1);
    await rt.close();
    await rt.close(); // idempotent
    setSpy.mockRestore();
    clearSpy.mockRestore();
    expect(intervals.size).toBe(0);
    await backTo(before);
  });

  test('reports Rekor down as not ready, and air-gapped as ready without a request', async () => {
    const down = await createRuntime({
      config: s.config({ serverUrl: 'http://127.0.0.1:9' }),
      name: 'rt-test',
    });
    const gapped = await createRuntime({
      config: s.config({ serverUrl: 'http://127.0.0.1:9', offline: { airGapped: true } }),
      name: 'rt-test',
    });
    try {
      expect((await down.readiness()).rekor).toMatchObject({ ok: false });
      expect(await down.probeRekor()).toMatchObject({ state: 'unreachable' });
      expect((await gapped.readiness()).rekor).toMatchObject({ ok: true });
      expect(await gapped.probeRekor()).toMatchObject({ state: 'air-gapped' });
    } finally {
      await down.close();
      await gapped.close();
    }
  });

  test('with Redis not answering, readiness names Redis and keeps the answers of Postgres and Rekor', async () => {
    const redis = await startPrivateRedis({ durable: false });
    const config = s.config({ serverUrl: rekor.url });
    const rt = await createRuntime({
      config: {
        ...config,
        redis: { topology: 'single', url: redis.url, keyPrefix: s.prefix, requireDurable: false },
      },
      name: 'rt-test',
    });
    try {
      expect((await rt.readiness()).redis).toEqual({ ok: true });
      // connections stay open and nothing is answered: the ping waits
      redis.freeze();
      const started = Date.now();
      const checks = await rt.readiness();
      // within the metrics server's 5 s for all checks
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(checks.redis).toMatchObject({ ok: false });
      expect(checks.redis!.detail).toBe('Redis did not answer within 3000 ms');
      expect(checks.postgres).toEqual({ ok: true });
      expect(checks.rekor).toMatchObject({ ok: true });
    } finally {
      redis.thaw();
      await rt.close();
      await redis.destroy();
    }
  });

  test('a one-shot command against a Redis that does not answer fails with a code and leaves nothing open', async () => {
    const before = handles();
    const config = testConfig({
      prefix: s.prefix,
      databaseUrl: s.t.url,
      redis: { url: 'redis://127.0.0.1:9' },
    });
    await expect(createRuntime({ config, name: 'rt-test', redisMode: 'command' })).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      service: 'redis',
    });
    await backTo(before);
  });
});

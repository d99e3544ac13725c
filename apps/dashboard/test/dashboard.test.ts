import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { RekorConfig } from '@rekor-budget/core';
import { createRuntime, type Runtime } from '@rekor-budget/runtime';
import { createTestServices, http, type TestServices } from '@rekor-budget/testing';
import { startDashboard, type BudgetView, type RunningDashboard } from '@rekor-budget/dashboard';
import { startRekorLocal } from '@rekor-budget/rekor-local';

const AUTH = 'operator:s3cret pass';
let s: TestServices;
let graph: Queue;

function configWith(dashboard: Record<string, unknown>, extra: Record<string, unknown> = {}): RekorConfig {
  return s.config({ serverUrl: 'http://127.0.0.1:9', dashboard, ...extra });
}

const runtimes: Runtime[] = [];
async function runtimeFor(config: RekorConfig): Promise<Runtime> {
  const rt = await createRuntime({ config, name: 'rekor-budget-test' });
  runtimes.push(rt);
  return rt;
}

const running: RunningDashboard[] = [];
async function start(config: RekorConfig, more: Partial<Parameters<typeof startDashboard>[0]> = {}) {
  const d = await startDashboard({ runtime: await runtimeFor(config), port: 0, host: '127.0.0.1', ...more });
  running.push(d);
  return d;
}

beforeAll(async () => {
  s = await createTestServices('dash');
  graph = (await runtimeFor(configWith({}))).queues.get('graph');
});

afterAll(async () => {
  for (const d of running) await d.close();
  for (const rt of runtimes) await rt.close();
  await s.close();
});

describe('dashboard access', () => {
  test('refuses to start without credentials, with a code', async () => {
    const runtime = await runtimeFor(configWith({}));
    await expect(startDashboard({ runtime, port: 0 })).rejects.toMatchObject({
      name: 'DashboardError',
      code: 'DASHBOARD_CREDENTIALS_MISSING',
    });
  });

  test('every route but /healthz asks for basic auth; wrong credentials get 401 too', async () => {
    // 10 wrong guesses from one address would lock it out (see security.test.ts)
    const d = await start(configWith({ user: 'operator', password: 's3cret pass' }), {
      failedLoginLimit: { maxFailures: 100 },
    });
    for (const path of [
      '/budgets',
      '/budgets.json',
      '/queues',
      '/queues/api/queues',
      '/queues/static/favicon-32x32.png',
    ]) {
      const none = await http(`${d.url}${path}`);
      expect([path, none.status]).toEqual([path, 401]);
      expect(none.headers['www-authenticate']).toMatch(/^Basic realm=/);
      const wrong = await http(`${d.url}${path}`, { auth: 'operator:guess' });
      expect([path, wrong.status]).toEqual([path, 401]);
      const wrongUser = await http(`${d.url}${path}`, { auth: 'admin:s3cret pass' });
      expect([path, wrongUser.status]).toEqual([path, 401]);
    }
    expect((await http(`${d.url}/budgets`, { auth: AUTH })).status).toBe(200);
    expect((await http(`${d.url}/queues/api/queues`, { auth: AUTH })).status).toBe(200);
    const health = await http(`${d.url}/healthz`);
    expect(health.status).toBe(200);
  });

  test('/metrics (behind auth) serves the scrape-time gauges; /readyz reports each dependency', async () => {
    const d = await start(configWith({ user: 'operator', password: 's3cret pass' }));
    expect((await http(`${d.url}/metrics`)).status).toBe(401);
    const m = await http(`${d.url}/metrics`, { auth: AUTH });
    expect(m.status).toBe(200);
    expect(m.body).toMatch(/^attestor_rekor_queue_depth\{tier="graph"\} \d+$/m);
    expect(m.body).toMatch(/^attestor_rekor_offline_queue_depth\{tier="edge"\} 0$/m);
    // Rekor at 127.0.0.1:9 does not answer: not ready, and it says why (to an authenticated request)
    const ready = await http(`${d.url}/readyz`, { auth: AUTH });
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'not_ready',
      checks: { redis: { ok: true }, postgres: { ok: true }, rekor: { ok: false } },
    });
  });

  test('sends the anti-framing and referrer headers', async () => {
    const d = await start(configWith({ user: 'operator', password: 's3cret pass' }));
    for (const path of ['/budgets', '/queues', '/healthz']) {
      const r = await http(`${d.url}${path}`, { auth: AUTH });
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['content-security-policy']).toBe("frame-ancestors 'none'");
      expect(r.headers['referrer-policy']).toBe('same-origin');
    }
  });

  test('--insecure-local serves without credentials on 127.0.0.1 only', async () => {
    const d = await start(configWith({}), { insecureLocal: true, host: '0.0.0.0' });
    expect(d.host).toBe('127.0.0.1');
    expect(d.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await http(`${d.url}/budgets`)).status).toBe(200);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      const refused = await new Promise<boolean>((resolve) => {
        const s = connect({ host: external.address, port: d.port });
        s.once('connect', () => {
          s.destroy();
          resolve(false);
        });
        s.once('error', () => resolve(true));
      });
      expect(refused).toBe(true);
    }
  });

  test('a cross-site write to the bull-board API is refused; a same-origin one goes through', async () => {
    const d = await start(configWith({ user: 'operator', password: 's3cret pass' }));
    const pause = `${d.url}/queues/api/queues/rekor-graph/pause`;
    const evil = await http(pause, {
      method: 'PUT',
      auth: AUTH,
      headers: { origin: 'https://evil.example' },
    });
    expect(evil.status).toBe(403);
    const viaReferer = await http(pause, {
      method: 'PUT',
      auth: AUTH,
      headers: { referer: 'https://evil.example/page' },
    });
    expect(viaReferer.status).toBe(403);
    const noSource = await http(pause, { method: 'PUT', auth: AUTH });
    expect(noSource.status).toBe(403);
    expect(await graph.isPaused()).toBe(false);

    const same = await http(pause, { method: 'PUT', auth: AUTH, headers: { origin: d.url } });
    expect(same.status).toBe(200);
    expect(await graph.isPaused()).toBe(true);
    const resume = await http(`${d.url}/queues/api/queues/rekor-graph/resume`, {
      method: 'PUT',
      auth: AUTH,
      headers: { referer: `${d.url}/queues/` },
    });
    expect(resume.status).toBe(200);
    expect(await graph.isPaused()).toBe(false);
  });

  test('read-only mode: bull-board refuses writes and says so', async () => {
    const d = await start(configWith({ user: 'operator', password: 's3cret pass', readOnly: true }));
    const list = JSON.parse((await http(`${d.url}/queues/api/queues`, { auth: AUTH })).body) as {
      queues: { name: string; readOnlyMode: boolean }[];
    };
    expect(list.queues.map((q) => q.name).sort()).toEqual(['rekor-edge', 'rekor-graph']);
    expect(list.queues.every((q) => q.readOnlyMode)).toBe(true);
    const r = await http(`${d.url}/queues/api/queues/rekor-graph/pause`, {
      method: 'PUT',
      auth: AUTH,
      headers: { origin: d.url },
    });
    expect(r.status).toBe(405);
    expect(await graph.isPaused()).toBe(false);
  });

  test('a job delayed again shows when it really runs, and the wait before it started is called a wait', async () => {
    const d = await start(configWith({ user: 'operator', password: 's3cret pass', readOnly: true }));
    const job = await graph.add('redelayed', { note: 'moved' }, { delay: 1_000 });
    try {
      // delayed again, as a retry's backoff or a budget refusal does: BullMQ keeps the delay
      // relative to this moment, not to the job's creation
      const before = Date.now();
      await job.changeDelay(3_600_000);
      const after = Date.now();
      const r = await http(`${d.url}/queues/api/queues?activeQueue=rekor-graph&status=delayed&page=1`, {
        auth: AUTH,
      });
      const body = JSON.parse(r.body) as {
        queues: {
          name: string;
          jobs: { id: string; timestamp: number; delay: number; opts: { delay: number } }[];
        }[];
      };
      const shown = body.queues.find((q) => q.name === 'rekor-graph')!.jobs.find((j) => j.id === job.id)!;
      const runsAt = shown.timestamp + shown.opts.delay;
      expect(runsAt).toBeGreaterThanOrEqual(before + 3_600_000);
      expect(runsAt).toBeLessThanOrEqual(after + 3_600_000);
      expect(shown.delay).toBe(shown.opts.delay); // no "delay changed; run time unknown"

      const messages = await http(`${d.url}/queues/static/locales/en-US/messages.json`, { auth: AUTH });
      expect(messages.status).toBe(200);
      expect((JSON.parse(messages.body) as { JOB: Record<string, string> }).JOB).toMatchObject({
        DELAYED_FOR: 'waited',
        WILL_RUN_AT: 'Will run at',
      });
      // other languages keep bull-board's own words
      expect((await http(`${d.url}/queues/static/locales/de-DE/messages.json`, { auth: AUTH })).status).toBe(
        200,
      );
    } finally {
      await job.remove();
    }
  });

  test('/budgets says when Rekor is unreachable or the site is air-gapped', async () => {
    const down = await start(configWith({ user: 'operator', password: 's3cret pass' }));
    const a = JSON.parse((await http(`${down.url}/budgets.json`, { auth: AUTH })).body);
    expect(a.rekor.state).toBe('unreachable');
    expect((await http(`${down.url}/budgets`, { auth: AUTH })).body).toMatch(/Rekor unreachable/);
    const gapped = await start(
      configWith({ user: 'operator', password: 's3cret pass' }, { offline: { airGapped: true } }),
    );
    const b = JSON.parse((await http(`${gapped.url}/budgets.json`, { auth: AUTH })).body);
    expect(b.rekor.state).toBe('air-gapped');
    expect((await http(`${gapped.url}/budgets`, { auth: AUTH })).body).toMatch(/air-gapped/);
  });

  test("a receipt's bundle: a request it cannot read is 400 with a code and what is wrong, not a 503", async () => {
    const d = await start(configWith({ user: 'operator', password: 's3cret pass' }));
    const digest = `sha256:${'a'.repeat(64)}`;
    for (const [path, says] of [
      ['/receipts/sha256:abc/bundle.json?log=http%3A%2F%2Flog', 'is not a content digest'],
      [`/receipts/${digest.toUpperCase()}/bundle.json?log=x`, 'is not a content digest'],
      [`/receipts/${digest}/bundle.json`, 'the log is missing'],
      [`/receipts/${digest}/bundle.json?log=a&log=b`, 'the log is given more than once'],
      ['/receipts/%E0%A4%A/bundle.json?log=x', 'the request cannot be read'],
    ] as const) {
      const r = await http(`${d.url}${path}`, { auth: AUTH });
      expect(r.status).toBe(400);
      const body = JSON.parse(r.body) as { code: string; message: string };
      expect(body.code).toBe('BAD_REQUEST');
      expect(body.message).toContain(says);
    }
    // well formed, and no such receipt: 404
    expect(
      (await http(`${d.url}/receipts/${digest}/bundle.json?log=http%3A%2F%2Flog`, { auth: AUTH })).status,
    ).toBe(404);
  });

  test('a port in use or a host that does not resolve is DASHBOARD_LISTEN_FAILED, naming what to change', async () => {
    const config = configWith({ user: 'operator', password: 's3cret pass' });
    const first = await start(config, { port: 0 });
    const port = Number(new URL(first.url).port);
    const runtime = await runtimeFor(config);
    const inUse = await startDashboard({ runtime, port, host: '127.0.0.1' }).catch((e: unknown) => e);
    expect(inUse).toMatchObject({ code: 'DASHBOARD_LISTEN_FAILED' });
    expect((inUse as Error).message).toContain(`127.0.0.1:${port} is in use by another process`);
    expect((inUse as Error).message).toContain('--port (dashboard.port)');
    const nowhere = await startDashboard({ runtime, port: 0, host: 'bogus.invalid' }).catch(
      (e: unknown) => e,
    );
    expect(nowhere).toMatchObject({ code: 'DASHBOARD_LISTEN_FAILED' });
    expect((nowhere as Error).message).toContain('"bogus.invalid" does not resolve');
  });

  test('/budgets shows whether the timestamp authority grants timestamps, and nothing of it when none is set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-dash-tsa-'));
    const log = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), fsync: false });
    // a timestamp authority that is down: it answers every request 503
    const down = createServer((_req, res) => res.writeHead(503).end('unavailable'));
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    try {
      const credentials = { user: 'operator', password: 's3cret pass' };
      const tsaUrl = (base: string) => `${base}/api/v1/timestamp`;
      const granting = await start(configWith(credentials, { timestampAuthority: { url: tsaUrl(log.url) } }));
      const a = JSON.parse((await http(`${granting.url}/budgets.json`, { auth: AUTH })).body) as BudgetView;
      expect(a.timestampAuthority).toMatchObject({
        url: tsaUrl(log.url),
        reachable: true,
        detail: 'granted',
      });
      expect((await http(`${granting.url}/budgets`, { auth: AUTH })).body).toMatch(
        /id="tsa">Timestamp authority granting timestamps/,
      );

      // its URL carries credentials: the page and the JSON show it without them
      const port = (down.address() as AddressInfo).port;
      const refusing = await start(
        configWith(credentials, {
          timestampAuthority: { url: tsaUrl(`http://tsa-user:tsa-secret@127.0.0.1:${port}`) },
        }),
      );
      const b = JSON.parse((await http(`${refusing.url}/budgets.json`, { auth: AUTH })).body) as BudgetView;
      expect(b.timestampAuthority).toMatchObject({ reachable: false, detail: 'HTTP 503' });
      expect(b.timestampAuthority!.url).toContain(`127.0.0.1:${port}/api/v1/timestamp`);
      const page = (await http(`${refusing.url}/budgets`, { auth: AUTH })).body;
      expect(page).toMatch(
        /id="tsa">Timestamp authority unreachable \(http:\/\/\S*127\.0\.0\.1:\d+\/api\/v1\/timestamp: HTTP 503\)/,
      );
      expect(JSON.stringify(b) + page).not.toContain('tsa-secret');

      // none configured: no banner, no field
      const none = await start(configWith(credentials));
      const c = JSON.parse((await http(`${none.url}/budgets.json`, { auth: AUTH })).body) as BudgetView;
      expect(c).not.toHaveProperty('timestampAuthority');
      expect((await http(`${none.url}/budgets`, { auth: AUTH })).body).not.toContain('id="tsa"');
    } finally {
      down.close();
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

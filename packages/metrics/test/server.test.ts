import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Registry } from 'prom-client';
import {
  MetricsError,
  RekorMetrics,
  startMetricsServer,
  type CheckResult,
  type MetricsServer,
  type ReadinessReport,
} from '@rekor-budget/metrics';
import { http } from './helpers';

const registry = new Registry();
new RekorMetrics({ registry });

let checks: () => Promise<Record<string, CheckResult>> = async () => ({});
let server: MetricsServer;
const TOKEN = 'a-scrape-token-of-32-characters!';
const bearer = { headers: { authorization: `Bearer ${TOKEN}` } };
const extra: MetricsServer[] = [];
let blocker: Server | undefined;

beforeAll(async () => {
  server = await startMetricsServer({
    registry,
    port: 0,
    readiness: () => checks(),
    readinessTimeoutMs: 200,
    auth: { token: TOKEN },
  });
});
afterAll(async () => {
  await server.close();
  await Promise.all(extra.map((s) => s.close()));
  await new Promise<void>((r) => (blocker ? blocker.close(() => r()) : r()));
});

describe('startMetricsServer', () => {
  it('listens on an ephemeral port and reports its url', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('serves /metrics with the exposition content type', async () => {
    const res = await http(`${server.url}/metrics`, bearer);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(registry.contentType);
    expect(res.body).toContain('# TYPE attestor_rekor_submissions_total counter');
  });

  it('answers /healthz with 200 ok', async () => {
    const res = await http(`${server.url}/healthz`);
    expect([res.status, res.body.trim()]).toEqual([200, 'ok']);
  });

  it('answers /readyz with 200 when every check is ok', async () => {
    checks = async () => ({ redis: { ok: true }, postgres: { ok: true }, rekor: { ok: true, detail: 'v1' } });
    const res = await http(`${server.url}/readyz`, bearer);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(res.body) as ReadinessReport;
    expect(body.status).toBe('ready');
    expect(body.checks?.rekor).toEqual({ ok: true, detail: 'v1' });
  });

  it('answers /readyz with 503 and each check when one is not ok', async () => {
    checks = async () => ({
      redis: { ok: true },
      postgres: { ok: false, detail: 'connection refused' },
      rekor: { ok: true },
    });
    const res = await http(`${server.url}/readyz`, bearer);
    expect(res.status).toBe(503);
    const body = JSON.parse(res.body) as ReadinessReport;
    expect(body.status).toBe('not_ready');
    expect(body.checks).toEqual({
      redis: { ok: true },
      postgres: { ok: false, detail: 'connection refused' },
      rekor: { ok: true },
    });
  });

  it('answers /readyz with 503 when the checks throw or do not answer in time', async () => {
    checks = async () => {
      throw new Error('boom');
    };
    let res = await http(`${server.url}/readyz`, bearer);
    expect(res.status).toBe(503);
    expect((JSON.parse(res.body) as ReadinessReport).error).toBe('boom');

    checks = () => new Promise(() => undefined);
    res = await http(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    expect((JSON.parse(res.body) as ReadinessReport).status).toBe('not_ready');
  });

  it('is not ready without any check', async () => {
    checks = async () => ({});
    expect((await http(`${server.url}/readyz`)).status).toBe(503);
  });

  it('answers 404 elsewhere and 405 to other methods', async () => {
    expect((await http(`${server.url}/`)).status).toBe(404);
    expect((await http(`${server.url}/metricsx`)).status).toBe(404);
    expect((await http(`${server.url}/metrics?x=1`, bearer)).status).toBe(200);
    const post = await http(`${server.url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await http(`${server.url}/healthz`, { method: 'HEAD' });
    expect([head.status, head.body]).toEqual([200, '']);
  });

  it('without credentials: /metrics 401 with a challenge, /readyz the status alone, /healthz ok', async () => {
    checks = async () => ({ postgres: { ok: false, detail: 'password authentication failed for user "x"' } });
    const metrics = await http(`${server.url}/metrics`);
    expect(metrics.status).toBe(401);
    expect(metrics.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(metrics.body).not.toContain('attestor_rekor');
    const wrong = await http(`${server.url}/metrics`, { headers: { authorization: 'Bearer guess' } });
    expect(wrong.status).toBe(401);
    const ready = await http(`${server.url}/readyz`);
    expect([ready.status, JSON.parse(ready.body)]).toEqual([503, { status: 'not_ready' }]);
    expect((await http(`${server.url}/healthz`)).status).toBe(200);
  });

  it('takes basic auth, a token, or either', async () => {
    const both = await startMetricsServer({
      registry,
      port: 0,
      readiness: async () => ({ redis: { ok: true } }),
      auth: { user: 'prometheus', password: 'scrape pass', token: TOKEN },
    });
    extra.push(both);
    const basic = (auth: string) => ({
      headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}` },
    });
    expect((await http(`${both.url}/metrics`, basic('prometheus:scrape pass'))).status).toBe(200);
    expect((await http(`${both.url}/metrics`, basic('prometheus:guess'))).status).toBe(401);
    expect((await http(`${both.url}/metrics`, bearer)).status).toBe(200);
    const ready = await http(`${both.url}/readyz`, basic('prometheus:scrape pass'));
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready', checks: { redis: { ok: true } } });
  });

  it('listens on 127.0.0.1 by default; without auth /metrics is open and /readyz keeps its details to itself', async () => {
    const open = await startMetricsServer({
      registry,
      port: 0,
      readiness: async () => ({ redis: { ok: false, detail: 'ECONNREFUSED' } }),
    });
    extra.push(open);
    expect(open.url).toBe(`http://127.0.0.1:${open.port}`);
    expect((await http(`${open.url}/metrics`)).status).toBe(200);
    expect(JSON.parse((await http(`${open.url}/readyz`)).body)).toEqual({ status: 'not_ready' });
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) await expect(http(`http://${external.address}:${open.port}/healthz`)).rejects.toThrow();
  });

  it('answers 500 when the registry cannot be collected', async () => {
    const broken = new Registry();
    const { Gauge } = await import('prom-client');
    new Gauge({
      name: 'broken_gauge',
      help: 'fails to collect',
      registers: [broken],
      collect() {
        throw new Error('collect failed');
      },
    });
    const s = await startMetricsServer({ registry: broken, port: 0, readiness: async () => ({}) });
    extra.push(s);
    expect((await http(`${s.url}/metrics`)).status).toBe(500);
  });

  it('fails with LISTEN_FAILED when the port is taken', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const err = await startMetricsServer({
      registry,
      port,
      host: '127.0.0.1',
      readiness: async () => ({}),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetricsError);
    expect((err as MetricsError).code).toBe('LISTEN_FAILED');
  });

  it('refuses bad options', async () => {
    for (const port of [-1, 70000, 1.5]) {
      const err = await startMetricsServer({ registry, port, readiness: async () => ({}) }).catch(
        (e: unknown) => e,
      );
      expect((err as MetricsError).code).toBe('INVALID_OPTION');
    }
    for (const auth of [{}, { user: 'u' }, { password: 'p' }, { token: '' }]) {
      const err = await startMetricsServer({ registry, port: 0, readiness: async () => ({}), auth }).catch(
        (e: unknown) => e,
      );
      expect((err as MetricsError).code).toBe('INVALID_OPTION');
    }
  });

  it('closes idempotently', async () => {
    const s = await startMetricsServer({ registry, port: 0, host: '127.0.0.1', readiness: async () => ({}) });
    await Promise.all([s.close(), s.close()]);
    await expect(http(`${s.url}/healthz`)).rejects.toThrow();
  });
});

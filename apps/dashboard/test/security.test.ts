import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { contentDigest, validateGraphInput, type RekorConfig } from '@rekor-budget/core';
import { jobIdFor, SUBMISSION_JOB, type SubmissionJobData } from '@rekor-budget/queue';
import { createRuntime, type Runtime } from '@rekor-budget/runtime';
import { createTestServices, graphInput, http, type TestServices } from '@rekor-budget/testing';
import { startDashboard, type RunningDashboard } from '@rekor-budget/dashboard';

/**
 * Issue 14, against the real dashboard server over HTTP: finding 1 (bull-board
 * writes that forge or destroy submissions), 2 (DNS rebinding under
 * --insecure-local) and 10 (readiness details, X-Powered-By, failed logins).
 */
const USER = 'operator';
const PASSWORD = 's3cret pass';
const AUTH = `${USER}:${PASSWORD}`;
let s: TestServices;
let graph: Queue<SubmissionJobData>;
const runtimes: Runtime[] = [];
const running: RunningDashboard[] = [];

function config(dashboard: Record<string, unknown> = { user: USER, password: PASSWORD }): RekorConfig {
  return s.config({ serverUrl: 'http://127.0.0.1:9', dashboard });
}

async function start(
  c: RekorConfig,
  more: Partial<Parameters<typeof startDashboard>[0]> = {},
): Promise<RunningDashboard> {
  const runtime = await createRuntime({ config: c, name: 'rekor-budget-test' });
  runtimes.push(runtime);
  const d = await startDashboard({ runtime, port: 0, host: '127.0.0.1', ...more });
  running.push(d);
  return d;
}

/** A job as the producer queues it. */
async function queued(scanId: string) {
  const input = validateGraphInput(graphInput(randomUUID(), scanId));
  const data: SubmissionJobData = {
    version: 1,
    tier: 'graph',
    contentDigest: contentDigest('graph', input),
    input,
    enqueuedAt: Date.now(),
  };
  return graph.add(SUBMISSION_JOB, data, { jobId: jobIdFor('graph', data.contentDigest), delay: 3_600_000 });
}

beforeAll(async () => {
  s = await createTestServices('dash-sec');
  const rt = await createRuntime({ config: config(), name: 'rekor-budget-test' });
  runtimes.push(rt);
  graph = rt.queues.get('graph');
});

afterAll(async () => {
  for (const d of running) await d.close();
  for (const rt of runtimes) await rt.close();
  await s.close();
});

const codeOf = (body: string) => (JSON.parse(body) as { code?: string }).code;

describe('finding 1: a dashboard login is no signing right', () => {
  let d: RunningDashboard;
  const write = (method: string, path: string, body?: unknown) =>
    http(`${d.url}/queues/api/queues${path}`, {
      method,
      auth: AUTH,
      headers: { origin: d.url },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    d = await start(config());
  });

  test('adding a job with any content is refused, and nothing is queued', async () => {
    const victim = await queued('victim');
    const before = await graph.count();
    const forged = {
      name: SUBMISSION_JOB,
      data: { ...victim.data, input: { ...victim.data.input, scanId: 'attacker' } },
      options: { jobId: 'forged' },
    };
    const r = await write('POST', '/rekor-graph/add', forged);
    expect(r.status).toBe(403);
    expect(codeOf(r.body)).toBe('WRITE_NOT_ALLOWED');
    expect(await graph.count()).toBe(before);
    expect(await graph.getJob('forged')).toBeUndefined();
  });

  test.each([
    [
      'edit a job’s data',
      'PATCH',
      (id: string) => `/rekor-graph/${id}/update-data`,
      { data: { tier: 'graph' } },
    ],
    ['change a job’s delay', 'PATCH', (id: string) => `/rekor-graph/${id}/delay`, { delay: 0 }],
    ['change a job’s priority', 'PATCH', (id: string) => `/rekor-graph/${id}/priority`, { priority: 1 }],
    ['empty the queue', 'PUT', () => '/rekor-graph/empty', undefined],
    ['obliterate the queue', 'PUT', () => '/rekor-graph/obliterate', undefined],
    ['clean the waiting jobs', 'PUT', () => '/rekor-graph/clean/delayed', undefined],
    ['set the concurrency', 'PUT', () => '/rekor-graph/concurrency', { concurrency: 1 }],
    ['lift a rate limit', 'PUT', () => '/rekor-graph/rate-limit/release', undefined],
  ])('a write that would %s is refused (403 WRITE_NOT_ALLOWED)', async (_what, method, path, body) => {
    const job = await queued(`kept-${randomUUID()}`);
    const data = JSON.stringify(job.data);
    const r = await write(method, path(job.id!), body);
    expect([r.status, codeOf(r.body)]).toEqual([403, 'WRITE_NOT_ALLOWED']);
    const after = await graph.getJob(job.id!);
    expect(JSON.stringify(after?.data)).toBe(data);
    expect(await after?.getState()).toBe('delayed');
  });

  test('retry, promote, clean of finished jobs and pause/resume still work', async () => {
    expect((await write('PUT', '/rekor-graph/pause')).status).toBe(200);
    expect(await graph.isPaused()).toBe(true);
    expect((await write('PUT', '/rekor-graph/resume')).status).toBe(200);
    expect(await graph.isPaused()).toBe(false);
    expect((await write('PUT', '/rekor-graph/clean/completed')).status).toBe(200);
    expect((await write('PUT', '/rekor-graph/retry/failed')).status).toBe(200);
    const job = await queued(`promoted-${randomUUID()}`);
    // the write goes through; no worker runs here, so the job now waits
    expect((await write('PUT', `/rekor-graph/${job.id}/promote`)).status).toBe(204);
    expect(await (await graph.getJob(job.id!))?.getState()).toBe('waiting');
  });

  test('the page loads the script that hides the add and edit controls', async () => {
    const page = await http(`${d.url}/queues`, { auth: AUTH });
    expect(page.status).toBe(200);
    const src = /<script defer src="([^"]+rekor-budget-guard\.js)"><\/script><\/body>/.exec(page.body)?.[1];
    expect(src).toBe('/queues/rekor-budget-guard.js');
    const script = await http(`${d.url}${src}`, { auth: AUTH });
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/^application\/javascript/);
    for (const label of ['Add job', 'Empty', 'Obliterate', 'Update Data', 'Duplicate', 'UPDATE_DATA'])
      expect(script.body).toContain(JSON.stringify(label).slice(1, -1));
    expect(script.body).not.toContain('"Retry"');
    expect((await http(`${d.url}${src}`)).status).toBe(401);
  });
});

describe('finding 2: --insecure-local answers only to loopback names', () => {
  let d: RunningDashboard;
  beforeAll(async () => {
    d = await start(config({}), { insecureLocal: true });
  });

  test('a rebinding name is refused for reads and writes, even with a matching Origin', async () => {
    const host = `rebind.attacker.example:${d.port}`;
    const read = await http(`${d.url}/budgets.json`, { headers: { host } });
    expect([read.status, codeOf(read.body)]).toEqual([421, 'HOST_NOT_ALLOWED']);
    const pause = await http(`${d.url}/queues/api/queues/rekor-graph/pause`, {
      method: 'PUT',
      headers: { host, origin: `http://${host}` },
    });
    expect([pause.status, codeOf(pause.body)]).toEqual([421, 'HOST_NOT_ALLOWED']);
    expect(await graph.isPaused()).toBe(false);
    // the loopback address on another port is another origin too
    const otherPort = await http(`${d.url}/budgets.json`, { headers: { host: `127.0.0.1:${d.port + 1}` } });
    expect(otherPort.status).toBe(421);
  });

  test.each(['127.0.0.1', 'localhost', '[::1]'])(
    'Host %s with the dashboard port is served',
    async (name) => {
      const r = await http(`${d.url}/budgets.json`, { headers: { host: `${name}:${d.port}` } });
      expect(r.status).toBe(200);
    },
  );
});

describe('finding 10: what an unauthenticated client learns', () => {
  test('/readyz gives its details only to an authenticated request', async () => {
    const d = await start(config());
    const anonymous = await http(`${d.url}/readyz`);
    expect(anonymous.status).toBe(503);
    expect(JSON.parse(anonymous.body)).toEqual({ status: 'not_ready' });
    const wrong = await http(`${d.url}/readyz`, { auth: `${USER}:guess` });
    expect(JSON.parse(wrong.body)).toEqual({ status: 'not_ready' });
    const authed = await http(`${d.url}/readyz`, { auth: AUTH });
    expect(JSON.parse(authed.body)).toMatchObject({
      status: 'not_ready',
      checks: { redis: { ok: true }, postgres: { ok: true }, rekor: { ok: false } },
    });
  });

  test('no response names the framework (no X-Powered-By)', async () => {
    const d = await start(config());
    for (const path of [
      '/healthz',
      '/budgets',
      '/queues',
      '/queues/api/queues',
      '/queues/static/favicon-32x32.png',
    ])
      expect([path, (await http(`${d.url}${path}`, { auth: AUTH })).headers['x-powered-by']]).toEqual([
        path,
        undefined,
      ]);
  });

  test('after a few failed logins an address is locked out, even with the right password', async () => {
    const d = await start(config(), { failedLoginLimit: { maxFailures: 3, windowMs: 600_000 } });
    // a request without credentials (a browser's first) is no failure
    for (let i = 0; i < 5; i++) expect((await http(`${d.url}/budgets`)).status).toBe(401);
    for (let i = 0; i < 3; i++)
      expect((await http(`${d.url}/budgets`, { auth: `${USER}:guess-${i}` })).status).toBe(401);
    const locked = await http(`${d.url}/budgets`, { auth: AUTH });
    expect([locked.status, codeOf(locked.body)]).toEqual([429, 'TOO_MANY_FAILED_LOGINS']);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await http(`${d.url}/healthz`)).status).toBe(200);
  });

  test('the lockout ends when its window has passed', async () => {
    let now = Date.now();
    const d = await start(config(), {
      failedLoginLimit: { maxFailures: 2, windowMs: 60_000, now: () => now },
    });
    for (let i = 0; i < 2; i++) await http(`${d.url}/budgets`, { auth: `${USER}:guess-${i}` });
    expect((await http(`${d.url}/budgets`, { auth: AUTH })).status).toBe(429);
    now += 60_000;
    expect((await http(`${d.url}/budgets`, { auth: AUTH })).status).toBe(200);
  });
});

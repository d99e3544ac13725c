import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { toFileConfig } from '@rekor-budget/core';
import { startPrivateCluster, startPrivateSentinel } from '@rekor-budget/testing';
import { createHarness, graphInput, waitFor, type Harness, type HarnessTopology } from './harness';

/**
 * Budgets stay exact when four `rekor-budget worker` processes race for one
 * tenant's units, on a Redis Cluster of three masters and on Redis Sentinel.
 * The workers run on the Redis clock (`TIME`), which a test cannot move, so
 * the burst window is made short instead: 3 units per 1.5 s, 9 per hour.
 * Within the run both windows bind: the burst window first, then the hour.
 * What the budget refuses is parked in Postgres; the processes' release loop
 * (one leads per tier) wakes it as units free, until the hour is spent.
 */
jest.setTimeout(120_000);

const BIN = join(__dirname, '..', '..', 'cli', 'bin', 'rekor-budget.js');
const PROCESSES = 4;
const SUBMISSIONS = 24;
const HOURLY = 9;
const BURST_MS = 1_500;
const BURST_CAP = 3; // floor(7200 x 1.5 s / 1 h)
/** How far a worker's Redis clock may stand from its host clock (same machine: a few ms). */
const CLOCK_SLACK_MS = 50;

const TOPOLOGIES: [string, () => Promise<{ topology: HarnessTopology; destroy(): Promise<void> }>][] = [
  [
    'a Redis Cluster of three masters',
    async () => {
      const c = await startPrivateCluster();
      return { topology: { cluster: { nodes: c.nodes } }, destroy: () => c.destroy() };
    },
  ],
  [
    'Redis Sentinel',
    async () => {
      const s = await startPrivateSentinel();
      return {
        topology: { sentinel: { name: s.name, nodes: s.sentinels } },
        destroy: () => s.destroy(),
      };
    },
  ],
];

/** A `rekor-budget worker --role graph` process; resolves once it consumes the queue. */
async function startWorkerProcess(configFile: string, children: ChildProcess[]): Promise<void> {
  const child = spawn(
    process.execPath,
    [BIN, 'worker', '--role', 'graph', '--config', configFile, '--no-metrics', '--concurrency', '8'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, REDIS_URL: '', DATABASE_URL: '', REKOR_URL: '', SIGNING_KEY: '' },
    },
  );
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('worker graph: consuming')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before consuming: ${out}${err}`)));
  });
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  const exited = running.map((c) => new Promise((r) => c.once('exit', r)));
  for (const c of running) c.kill('SIGTERM');
  await Promise.all(exited);
  children.length = 0;
}

describe.each(TOPOLOGIES)('four worker processes on %s', (_name, start) => {
  let redis: Awaited<ReturnType<typeof start>> | undefined;
  let h: Harness | undefined;
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'rb-topology-processes-'));
  beforeAll(async () => {
    redis = await start();
  }, 120_000);
  afterAll(async () => {
    await stopAll(children);
    await h?.close();
    await redis?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('one tenant over its budget: never more admissions than either window allows', async () => {
    h = await createHarness(
      { budget: { hourlyLimit: HOURLY, burstLimit: 7_200, burstWindow: '00:00:01.500' } },
      { topology: redis!.topology },
    );
    const harness = h;
    expect(harness.config.budget.burstWindowLimit).toBe(BURST_CAP);
    const configFile = join(dir, 'rekor.yaml');
    writeFileSync(configFile, stringify({ attestor: { rekor: toFileConfig(harness.config) } }));
    const tenant = randomUUID();
    for (let i = 0; i < SUBMISSIONS; i++) {
      const r = await harness.producer.submitGraphAttestation(graphInput(tenant, `p-${i}`));
      expect(r.status).toBe('queued');
    }
    // all four race from the first job on
    await Promise.all(Array.from({ length: PROCESSES }, () => startWorkerProcess(configFile, children)));

    await waitFor(async () => (await harness.receipts()).length >= HOURLY, 60_000, `${HOURLY} receipts`);
    // settled: nothing waiting or running, the rest parked until units leave the hour
    await waitFor(
      async () => {
        const c = await harness.queues.graph.getJobCounts('waiting', 'active', 'prioritized');
        const running = (c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0);
        return running === 0 && (await harness.parked(tenant)) === SUBMISSIONS - HOURLY;
      },
      30_000,
      'the rest parked for the hour',
    );
    const counts = await harness.queues.graph.getJobCounts('delayed', 'failed');
    expect(counts).toMatchObject({ delayed: 0, failed: 0 });

    // the hour: exactly its cap, in the receipts, in the log and in the budget
    const receipts = await harness.receipts();
    expect(receipts.filter((r) => r.tenantId === tenant)).toHaveLength(HOURLY);
    expect(await harness.treeSize()).toBe(HOURLY);
    const status = await harness.runtime.budget.peek(tenant, 'graph');
    expect(status.windows.find((w) => w.name === 'hour')!.used).toBe(HOURLY);
    expect(status.held).toBe(0);
    // the lane sleeps until the first unit leaves the hour: no release before
    const units = (
      await harness.redis.zrange(harness.runtime.keys.budgetUnits(tenant, 'graph'), 0, -1, 'WITHSCORES')
    )
      .filter((_, i) => i % 2 === 1)
      .map(Number)
      .sort((a, b) => a - b);
    expect(units).toHaveLength(HOURLY);
    const hourFreesAt = units[0]! + 60 * 60_000;
    // asleep: until the first unit leaves the hour, or, when its last look found a
    // released job's hold still live, until that hold could expire (10 min; it was
    // spent meanwhile, so that look puts the lane back to sleep until the hour)
    await waitFor(
      async () => {
        const lanes = await harness.runtime.lanes.list('graph');
        const at = lanes[0]?.nextCheckAt ?? 0;
        return (
          lanes.length === 1 &&
          lanes[0]!.tenantId === tenant &&
          at <= hourFreesAt &&
          at >= Date.now() + 5 * 60_000
        );
      },
      10_000,
      'the lane to sleep until the first unit leaves the hour, or a hold could expire',
    );
    // every unit on the Redis clock: no BURST_CAP + 1 of them inside one burst window
    for (let i = BURST_CAP; i < units.length; i++) {
      expect(units[i]! - units[i - BURST_CAP]!).toBeGreaterThanOrEqual(BURST_MS);
    }

    // the burst window: each unit was admitted while its job ran (between
    // processedOn and finishedOn); no BURST_CAP + 1 of those runs fit inside
    // one window, which they would if the window had admitted one too many
    // (runs that found the window full and parked their job spent nothing)
    const runs = (await harness.queues.graph.getCompleted(0, -1))
      .filter((j) => j.returnvalue.status !== 'parked')
      .map((j) => ({ from: j.processedOn!, to: j.finishedOn! }))
      .sort((a, b) => a.from - b.from);
    expect(runs).toHaveLength(HOURLY);
    for (let i = 0; i + BURST_CAP < runs.length; i++) {
      const ends = runs
        .slice(i)
        .map((r) => r.to)
        .sort((a, b) => a - b);
      const span = ends[BURST_CAP]! - runs[i]!.from;
      expect(span).toBeGreaterThanOrEqual(BURST_MS - CLOCK_SLACK_MS);
    }
    // and the runs did spread over the windows: the hour took at least three bursts
    expect(runs.at(-1)!.to - runs[0]!.from).toBeGreaterThanOrEqual(2 * BURST_MS - CLOCK_SLACK_MS);
  });
});

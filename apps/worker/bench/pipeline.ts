/**
 * End-to-end benchmark: producer -> BullMQ -> worker processes (budget,
 * real ECDSA P-256 signing, POST to rekor-local over HTTP, receipt in
 * Postgres), beside the same workload through the hand-built alternative
 * (bench/baseline-worker.ts: BullMQ + rate-limiter-flexible + @sigstore/sign
 * + a Postgres insert), in the same run, on the same Redis, Postgres and
 * rekor-local. Prints submissions/s, admit-to-receipt latency and the ratio.
 *
 *   npm run bench -w @rekor-budget/worker   [-- --submissions 4000 --workers 1,2,4 --concurrency 32]
 *                                           [--topology single|cluster|sentinel]
 *
 * --topology cluster / sentinel runs both on a private topology from
 * @rekor-budget/testing (three masters; or a master, a replica and a sentinel),
 * every node with AOF and appendfsync always; single (default) uses REDIS_URL.
 *
 * BENCH_NODE_FLAGS is passed to every process it starts, e.g.
 * BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" for a CPU profile of each.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { stringify } from 'yaml';
import {
  createRedisConnection,
  createRedisKeys,
  parseConfigObject,
  type RedisConnection,
  type RedisTopologyConfig,
} from '@rekor-budget/core';
import { createRekorProducer } from '@rekor-budget/producer';
import { createReceiptStore, createTierQueues } from '@rekor-budget/queue';
import { writeKeyPair } from '@rekor-budget/rekor';
import {
  BASELINE_TABLE,
  type BaselineJob,
  type BaselineOptions,
  type BaselineRedis,
} from './baseline-worker';
import {
  createBenchDatabase,
  deleteKeys,
  startPrivateCluster,
  startPrivateSentinel,
  type BenchDatabase,
} from '@rekor-budget/testing';
import { arg, CLI, REDIS_URL, spawnNode, stopChild } from './support';

const SUBMISSIONS = Number(arg('submissions', '4000'));
const WORKER_COUNTS = arg('workers', '1,2,4').split(',').map(Number);
const CONCURRENCY = Number(arg('concurrency', '32'));
const HOURLY_LIMIT = 100;
const BASELINE = join(__dirname, 'baseline-worker.ts');
const TOPOLOGY = arg('topology', 'single');
if (!['single', 'cluster', 'sentinel'].includes(TOPOLOGY)) {
  console.error(`--topology ${TOPOLOGY}: use single, cluster or sentinel`);
  process.exit(2);
}

const sha = () => `sha256:${randomBytes(32).toString('hex')}`;

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = pattern.exec(buf);
      if (m) resolve(m[0]);
    });
    child.once('exit', (code) => reject(new Error(`process exited (${code}) before printing ${pattern}`)));
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** The same workload for both: tenants of 20 submissions each (under every budget), ~2.5 KB statements. */
function workload(): BaselineJob[] {
  const tenants = Array.from({ length: Math.ceil(SUBMISSIONS / 20) }, () => randomUUID());
  return Array.from({ length: SUBMISSIONS }, (_, i) => ({
    tenantId: tenants[i % tenants.length]!,
    scanId: `bench-${i}`,
    subject: { name: 'registry.example/app', digest: sha() },
    graphDigest: sha(),
    scanner: { name: 'stella-scanner', version: '1.4.2' },
    scanFinishedAt: new Date().toISOString(),
    metadata: { pipeline: 'bench', padding: 'x'.repeat(2048) },
  }));
}

interface RunResult {
  perSecond: number;
  p50: number;
  p99: number;
  stored: number;
  failed: number;
}

interface Env {
  dir: string;
  rekorUrl: string;
  keyPath: string;
  databaseUrl: string;
  db: BenchDatabase['db'];
  /** The topology's keys of `redis` in the configuration, without the prefix. */
  redisFile: Record<string, unknown>;
  redisConfig: RedisTopologyConfig;
  baselineRedis: BaselineRedis;
  redis: RedisConnection;
  children: ChildProcess[];
}

/** Waits until `queue` finished `n` jobs; returns the elapsed ms and the per-job latencies. */
async function finished(queue: Queue, n: number, start: number) {
  for (;;) {
    const done = await queue.getCompletedCount();
    const failed = await queue.getFailedCount();
    if (done + failed >= n) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const jobs = await queue.getCompleted(0, n);
  const latencies = jobs.map((j) => (j.finishedOn ?? 0) - (j.processedOn ?? 0)).sort((a, b) => a - b);
  // from the first job a worker took to the last receipt: process start-up is not counted
  const first = jobs.reduce((m, j) => Math.min(m, j.processedOn ?? m), Date.now());
  const last = jobs.reduce((m, j) => Math.max(m, j.finishedOn ?? m), start);
  return { elapsedMs: last - first, latencies, failed: await queue.getFailedCount() };
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => stopChild(c)));
  children.length = 0;
}

function resultOf(n: number, r: Awaited<ReturnType<typeof finished>>, stored: number): RunResult {
  return {
    perSecond: n / (r.elapsedMs / 1000),
    p50: percentile(r.latencies, 50),
    p99: percentile(r.latencies, 99),
    stored,
    failed: r.failed,
  };
}

async function runProduct(env: Env, jobs: BaselineJob[], workers: number): Promise<RunResult> {
  const prefix = `bench-${randomBytes(3).toString('hex')}`;
  const rekor = {
    serverUrl: env.rekorUrl,
    redis: { ...env.redisFile, keyPrefix: prefix, requireDurable: false },
    database: { url: env.databaseUrl },
    signing: { keyPath: env.keyPath },
    offline: { maxQueueSize: SUBMISSIONS * 2 },
    budget: { hourlyLimit: HOURLY_LIMIT },
  };
  const configFile = join(env.dir, `${prefix}.yaml`);
  writeFileSync(configFile, stringify({ attestor: { rekor } }));
  const config = parseConfigObject({ attestor: { rekor } }, { source: 'bench' });
  const receipts = createReceiptStore(env.db);
  const before = await receipts.count();

  // Enqueue everything first, then start the workers: the run measures the pipeline, not the producer.
  const producer = createRekorProducer({ config, redis: env.redis, db: env.db });
  for (let i = 0; i < jobs.length; i += 200) {
    await Promise.all(jobs.slice(i, i + 200).map((input) => producer.submitGraphAttestation(input)));
  }
  await producer.close();

  const started: ChildProcess[] = [];
  const start = Date.now();
  for (let w = 0; w < workers; w++) {
    const child = spawnNode([
      CLI,
      'worker',
      '--role',
      'graph',
      '--config',
      configFile,
      '--no-metrics',
      '--concurrency',
      String(CONCURRENCY),
    ]);
    child.stdout!.resume(); // the workers' log lines are not read here
    started.push(child);
  }
  const queues = createTierQueues({
    redis: env.redis,
    keys: createRedisKeys(prefix, { topology: config.redis.topology }),
  });
  const r = await finished(queues.get('graph'), jobs.length, start);
  await queues.close();
  await stopAll(started);
  const stored = (await receipts.count()) - before;
  await cleanUp(env, prefix);
  return resultOf(jobs.length, r, stored);
}

/** Deletes a run's keys on the shared Redis; a private topology goes away with its nodes. */
async function cleanUp(env: Env, prefix: string): Promise<void> {
  if (env.redisConfig.topology === 'single') await deleteKeys(env.redis as Redis, prefix);
}

async function runBaseline(env: Env, jobs: BaselineJob[], workers: number): Promise<RunResult> {
  const prefix = `bench-base-${randomBytes(3).toString('hex')}`;
  const queueName = 'baseline';
  const queue = new Queue<BaselineJob>(queueName, { connection: env.redis, prefix: `{${prefix}}` });
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
  const count = async () =>
    Number((await pool.query(`SELECT count(*) AS n FROM ${BASELINE_TABLE}`)).rows[0].n as string);
  const before = await count();
  for (let i = 0; i < jobs.length; i += 200) {
    await queue.addBulk(
      jobs.slice(i, i + 200).map((data) => ({
        name: 'submit',
        data,
        opts: { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: false },
      })),
    );
  }
  const options: BaselineOptions = {
    redis: env.baselineRedis,
    prefix,
    queue: queueName,
    rekorUrl: env.rekorUrl,
    databaseUrl: env.databaseUrl,
    keyPath: env.keyPath,
    concurrency: CONCURRENCY,
    hourlyLimit: HOURLY_LIMIT,
  };
  const started: ChildProcess[] = [];
  const start = Date.now();
  for (let w = 0; w < workers; w++) {
    const child = spawnNode(['-r', '@swc-node/register', BASELINE, JSON.stringify(options)]);
    child.stdout!.resume();
    started.push(child);
  }
  const r = await finished(queue, jobs.length, start);
  await queue.close();
  await stopAll(started);
  const stored = (await count()) - before;
  await pool.end();
  await cleanUp(env, prefix);
  return resultOf(jobs.length, r, stored);
}

interface BenchRedis {
  redisFile: Record<string, unknown>;
  baselineRedis: BaselineRedis;
  /** Stops a private topology (nothing for the shared Redis). */
  destroy(): Promise<void>;
}

const hostPort = (node: string) => {
  const [host, port] = node.split(':');
  return { host: host!, port: Number(port) };
};

/** The Redis of this run: REDIS_URL, or a private cluster / Sentinel set-up on loopback. */
async function startRedis(): Promise<BenchRedis> {
  if (TOPOLOGY === 'cluster') {
    const c = await startPrivateCluster();
    return {
      redisFile: { cluster: { nodes: c.nodes } },
      baselineRedis: { cluster: c.nodes.map(hostPort) },
      destroy: () => c.destroy(),
    };
  }
  if (TOPOLOGY === 'sentinel') {
    const s = await startPrivateSentinel();
    return {
      redisFile: { sentinel: { name: s.name, nodes: s.sentinels } },
      baselineRedis: { sentinel: { name: s.name, nodes: s.sentinels.map(hostPort) } },
      destroy: () => s.destroy(),
    };
  }
  return { redisFile: { url: REDIS_URL }, baselineRedis: { url: REDIS_URL }, destroy: async () => undefined };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'rb-bench-'));
  const bench = await createBenchDatabase('bench');
  const db = bench.db;
  const baselineDb = new pg.Client({ connectionString: bench.url });
  await baselineDb.connect();
  await baselineDb.query(
    `CREATE TABLE ${BASELINE_TABLE} (id BIGSERIAL PRIMARY KEY, job_id TEXT NOT NULL, tenant_id UUID NOT NULL, bundle JSONB NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
  );
  await baselineDb.end();
  const key = await writeKeyPair(join(dir, 'signing.pem'));
  const benchRedis = await startRedis();
  const redisConfig = parseConfigObject(
    { attestor: { rekor: { redis: benchRedis.redisFile } } },
    { source: 'bench' },
  ).redis;
  const redis = createRedisConnection(redisConfig, { maxRetriesPerRequest: null });
  const env: Env = {
    dir,
    rekorUrl: '',
    keyPath: key.privateKeyPath,
    databaseUrl: bench.url,
    db,
    redisFile: benchRedis.redisFile,
    redisConfig,
    baselineRedis: benchRedis.baselineRedis,
    redis,
    children: [],
  };
  let ok = true;
  try {
    const rekorLocal = spawnNode([CLI, 'rekor-local', '--data', join(dir, 'log'), '--port', '0']);
    env.children.push(rekorLocal);
    env.rekorUrl = (await waitForLine(rekorLocal, /http:\/\/127\.0\.0\.1:\d+/)).trim();

    const load = loadavg()[0]!.toFixed(1);
    console.log(
      `rekor-budget end-to-end benchmark (${cpus().length} CPUs, Node ${process.version}, load ${load})`,
    );
    console.log(
      `  workload   ${SUBMISSIONS} Tier 1 submissions per run (statements ~2.5 KB, ${Math.ceil(SUBMISSIONS / 20)} tenants, under budget), concurrency ${CONCURRENCY} per process`,
    );
    console.log(
      '  product    producer -> tier worker processes (budget, sign once, POST, receipt in Postgres)',
    );
    console.log(
      '  baseline   BullMQ addBulk -> BullMQ workers with rate-limiter-flexible, @sigstore/sign DSSEBundleBuilder + RekorWitness, INSERT of the bundle',
    );
    const where = {
      single: `one Redis (${REDIS_URL})`,
      cluster: 'a private Redis Cluster of three masters (AOF, appendfsync always)',
      sentinel: 'a private Sentinel set-up: master, replica, sentinel (AOF, appendfsync always)',
    }[TOPOLOGY];
    console.log(`  redis      ${where}`);
    console.log('  both       the same Redis, Postgres and rekor-local (own process, fsync on)');
    console.log('');
    console.log('  processes | product subm/s   p50    p99 | baseline subm/s   p50    p99 | ratio');
    for (const workers of WORKER_COUNTS) {
      const jobs = workload();
      const product = await runProduct(env, jobs, workers);
      const baseline = await runBaseline(env, workload(), workers);
      const row = (r: RunResult) =>
        `${r.perSecond.toFixed(0).padStart(6)} ${String(r.p50).padStart(6)} ${String(r.p99).padStart(6)}`;
      console.log(
        `  ${String(workers).padStart(9)} |        ${row(product)} |         ${row(baseline)} | ${(product.perSecond / baseline.perSecond).toFixed(2)}x`,
      );
      for (const [name, r] of [
        ['product', product],
        ['baseline', baseline],
      ] as const) {
        if (r.stored !== SUBMISSIONS || r.failed > 0) {
          ok = false;
          console.log(`  ! ${name} with ${workers} process(es): ${r.stored} stored, ${r.failed} failed`);
        }
      }
    }
    console.log('');
    console.log('  subm/s: jobs / (last finishedOn - first processedOn): worker start-up is not counted');
    console.log('  latency: admit to receipt per job, ms (BullMQ processedOn to finishedOn)');
    if (!ok) process.exitCode = 1;
  } finally {
    await stopAll(env.children);
    await redis.quit();
    await benchRedis.destroy();
    await bench.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

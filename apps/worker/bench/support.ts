/** What the worker benchmarks share beside @rekor-budget/testing's: arguments, the CLI, a child process, Redis command counts and plain BullMQ's per job. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { parseConfigObject, type RekorConfig } from '@rekor-budget/core';
import { createRekorProducer, type RekorProducer } from '@rekor-budget/producer';
import { writeKeyPair } from '@rekor-budget/rekor';
import { startRekorLocal } from '@rekor-budget/rekor-local';
import { createRuntime, type Runtime } from '@rekor-budget/runtime';
import { redisUrl, startPrivatePostgres, startPrivateRedis } from '@rekor-budget/testing';

export const REDIS_URL = redisUrl();
export const CLI = join(__dirname, '..', '..', 'cli', 'bin', 'rekor-budget.js');

/** `--name value` of the command line, else `dflt`. */
export function arg(name: string, dflt: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
}

/** A Node process with the service variables cleared, so only its arguments configure it. */
export function spawnNode(argv: string[]): ChildProcess {
  return spawn(
    process.execPath,
    [...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), ...argv],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, REDIS_URL: '', DATABASE_URL: '', REKOR_URL: '', SIGNING_KEY: '' },
    },
  );
}

/** Stops a child with SIGTERM and waits for it to exit (SIGKILL after `graceMs`). */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const out = new Map<string, number>();
  for (const m of info.matchAll(/cmdstat_([a-z|_-]+):calls=(\d+)/g)) out.set(m[1]!, Number(m[2]));
  return out;
}
export const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

export const BASELINE_CONCURRENCY = 8;

/** Redis commands per job (Lua's own included) of plain BullMQ: add, a worker takes it, completes it. */
export async function rawBullmqCommandsPerJob(admin: Redis, url: string, n: number): Promise<number> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection, prefix: '{rawbase}' });
  let done = 0;
  let allDone: () => void = () => undefined;
  const finished = new Promise<void>((r) => (allDone = r));
  const before = sum(await commandStats(admin));
  const workerConnection = new Redis(url, { maxRetriesPerRequest: null });
  const worker = new Worker('raw', async () => undefined, {
    connection: workerConnection,
    prefix: '{rawbase}',
    concurrency: BASELINE_CONCURRENCY,
    removeOnComplete: { age: 24 * 3600, count: 50_000 },
  });
  worker.on('completed', () => {
    if (++done === n) allDone();
  });
  for (let i = 0; i < n; i++)
    await queue.add('submit', { i }, { attempts: 5, backoff: { type: 'exponential', delay: 1000 } });
  await finished;
  const perJob = (sum(await commandStats(admin)) - before) / n;
  await worker.close();
  await queue.close();
  await workerConnection.quit();
  await connection.quit();
  return perJob;
}

/** A whole system of private parts for a benchmark, and its producer. */
export interface BenchSystem {
  /** The private Redis's URL (for admin connections, MONITOR, the baseline). */
  redisUrl: string;
  /** The attestor.yaml worker processes are started with. */
  configFile: string;
  config: RekorConfig;
  runtime: Runtime;
  /** A producer that holds budget units for what it queues. */
  producer: RekorProducer;
  /** Stops everything and removes the working directory. */
  close(): Promise<void>;
}

/**
 * A private Redis, a private Postgres, rekor-local and a signing key in a
 * temporary directory, the attestor.yaml for worker processes (`rekor` keys
 * added to the ones that point at those parts), the runtime and a producer.
 */
export async function startBenchSystem(label: string, rekor: Record<string, unknown>): Promise<BenchSystem> {
  const dir = mkdtempSync(join(tmpdir(), `rb-${label}-bench-`));
  const redisServer = await startPrivateRedis({ durable: false });
  const pg = await startPrivatePostgres();
  const rekorLocal = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), fsync: false });
  const key = await writeKeyPair(join(dir, 'signing.pem'));
  const rekorConfig = {
    serverUrl: rekorLocal.url,
    redis: { url: redisServer.url, keyPrefix: 'bench', requireDurable: false },
    database: { url: pg.url },
    signing: { keyPath: key.privateKeyPath },
    requestTimeout: '00:00:05',
    ...rekor,
  };
  const configFile = join(dir, 'attestor.yaml');
  writeFileSync(configFile, stringify({ attestor: { rekor: rekorConfig } }));
  const config = parseConfigObject({ attestor: { rekor: rekorConfig } }, { source: 'bench', env: {} });
  const runtime = await createRuntime({ config, name: 'rekor-budget-bench', dbPoolSize: 4 });
  const producer = createRekorProducer({
    config,
    db: runtime.db,
    budget: runtime.budget,
    redisTimeoutMs: 10_000,
  });
  return {
    redisUrl: redisServer.url,
    configFile,
    config,
    runtime,
    producer,
    async close() {
      await producer.close();
      await runtime.close();
      await rekorLocal.close();
      await pg.destroy();
      await redisServer.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

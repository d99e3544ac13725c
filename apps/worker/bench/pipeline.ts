/**
 * End-to-end benchmark: producer -> BullMQ -> worker processes (budget,
 * real ECDSA P-256 signing, POST to rekor-local over HTTP, receipt in
 * Postgres). Prints submissions/s and enqueue-to-receipt latency.
 *
 *   npm run bench -w @rekor-budget/worker   [-- --submissions 4000 --workers 2 --concurrency 32]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { stringify } from 'yaml';
import { createRedisKeys, parseConfigObject } from '@rekor-budget/core';
import { createDb, migrateToLatest } from '@rekor-budget/db';
import { createRekorProducer } from '@rekor-budget/producer';
import { createReceiptStore, createTierQueues } from '@rekor-budget/queue';
import { writeKeyPair } from '@rekor-budget/rekor';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const SUBMISSIONS = arg('submissions', 4000);
const WORKERS = arg('workers', 2);
const CONCURRENCY = arg('concurrency', 32);
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const CLI = join(__dirname, '..', '..', 'cli', 'bin', 'rekor-budget.js');

const sha = () => `sha256:${randomBytes(32).toString('hex')}`;

function spawnCli(argv: string[]): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...argv], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, REDIS_URL: '', DATABASE_URL: '', REKOR_URL: '', SIGNING_KEY: '' },
  });
  return child;
}

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
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'rb-bench-'));
  const dbName = `rekor_budget_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(DATABASE_URL);
  dbUrl.pathname = `/${dbName}`;
  const db = createDb({ url: dbUrl.toString() });
  await migrateToLatest(db);
  const prefix = `bench-${randomBytes(3).toString('hex')}`;
  const key = await writeKeyPair(join(dir, 'signing.pem'));
  const children: ChildProcess[] = [];
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  try {
    const rekorLocal = spawnCli(['rekor-local', '--data', join(dir, 'log'), '--port', '0']);
    children.push(rekorLocal);
    const rekorUrl = (await waitForLine(rekorLocal, /http:\/\/127\.0\.0\.1:\d+/)).trim();

    const rekor = {
      serverUrl: rekorUrl,
      redis: { url: REDIS_URL, keyPrefix: prefix, requireDurable: false },
      database: { url: dbUrl.toString() },
      signing: { keyPath: key.privateKeyPath },
      offline: { maxQueueSize: SUBMISSIONS * 2 },
    };
    const configFile = join(dir, 'attestor.yaml');
    writeFileSync(configFile, stringify({ attestor: { rekor } }));
    const config = parseConfigObject({ attestor: { rekor } }, { source: 'bench' });

    // Enqueue everything first, then start the workers: the run measures the pipeline, not the producer.
    const producer = createRekorProducer({ config, redis, db });
    const tenants = Array.from({ length: Math.ceil(SUBMISSIONS / 20) }, () => randomUUID());
    const enqueueStart = Date.now();
    for (let i = 0; i < SUBMISSIONS; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, SUBMISSIONS - i) }, (_, k) =>
          producer.submitGraphAttestation({
            tenantId: tenants[(i + k) % tenants.length]!,
            scanId: `bench-${i + k}`,
            subject: { name: 'registry.example/app', digest: sha() },
            graphDigest: sha(),
            scanner: { name: 'stella-scanner', version: '1.4.2' },
            scanFinishedAt: new Date().toISOString(),
            metadata: { pipeline: 'bench', padding: 'x'.repeat(2048) },
          }),
        ),
      );
    }
    const enqueueMs = Date.now() - enqueueStart;
    await producer.close();

    const start = Date.now();
    for (let w = 0; w < WORKERS; w++) {
      const child = spawnCli([
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
      children.push(child);
    }
    const queues = createTierQueues({ redis, keys: createRedisKeys(prefix) });
    const queue = queues.get('graph');
    for (;;) {
      const done = await queue.getCompletedCount();
      const failed = await queue.getFailedCount();
      if (done + failed >= SUBMISSIONS) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const elapsedMs = Date.now() - start;
    const jobs = await queue.getCompleted(0, SUBMISSIONS);
    const latencies = jobs.map((j) => (j.finishedOn ?? 0) - (j.processedOn ?? 0)).sort((a, b) => a - b);
    const receipts = await createReceiptStore(db).count();
    const failed = await queue.getFailedCount();
    await queues.close();

    console.log(`rekor-budget end-to-end benchmark (${cpus().length} CPUs, Node ${process.version})`);
    console.log(
      `  submissions        ${SUBMISSIONS} (statements ~2.5 KB, ${tenants.length} tenants, under budget)`,
    );
    console.log(
      `  pipeline           ${WORKERS} worker processes x concurrency ${CONCURRENCY}; rekor-local in its own process (fsync on)`,
    );
    console.log(
      `  enqueue            ${(SUBMISSIONS / (enqueueMs / 1000)).toFixed(0)} submissions/s through the producer`,
    );
    console.log(
      `  end to end         ${(SUBMISSIONS / (elapsedMs / 1000)).toFixed(0)} submissions/s (budget, ECDSA P-256 signing, POST, receipt in Postgres)`,
    );
    console.log(
      `  per job (worker)   p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms (admit to receipt)`,
    );
    console.log(`  receipts           ${receipts}, failed ${failed}`);
    if (receipts !== SUBMISSIONS) process.exitCode = 1;
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
    );
    const keys = await redis.keys(`{${prefix}}:*`);
    if (keys.length) await redis.del(...keys);
    for (const k of await redis.keys(`${prefix}:*`)) await redis.del(k);
    await redis.quit();
    await db.destroy();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/**
 * Drain benchmark: offline rows (Postgres) moved back into the tier queue
 * (Redis) by the drain, beside the plain alternative in the same run: the
 * same job data added with BullMQ `addBulk` in batches of the same size,
 * without Postgres. Prints rows/s for each and the ratio.
 *
 *   npm run bench:drain -w @rekor-budget/worker   [-- --rows 100000 --batch 100,1000]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { contentDigest, parseConfigObject, validateGraphInput, type Submission } from '@rekor-budget/core';
import { SUBMISSION_JOB, submissionJobOptions, type SubmissionJobData } from '@rekor-budget/queue';
import { startRekorLocal } from '@rekor-budget/rekor-local';
import { createRuntime } from '@rekor-budget/runtime';
import { Drainer } from '../src/drain';
import { createBenchDatabase, deleteKeys } from '@rekor-budget/testing';
import { arg, REDIS_URL } from './support';

const ROWS = Number(arg('rows', '100000'));
const BATCHES = arg('batch', '100,1000').split(',').map(Number);

const sha = () => `sha256:${randomBytes(32).toString('hex')}`;

/** `n` Tier 1 submissions of 100 tenants, as the producer stores them. */
function submissions(n: number): SubmissionJobData[] {
  const tenants = Array.from({ length: 100 }, () => randomUUID());
  return Array.from({ length: n }, (_, i) => {
    const input = validateGraphInput({
      tenantId: tenants[i % tenants.length]!,
      scanId: `drain-${i}`,
      subject: { name: 'registry.example/app', digest: sha() },
      graphDigest: sha(),
      scanner: { name: 'stella-scanner', version: '1.4.2' },
      scanFinishedAt: '2025-12-20T10:00:00Z',
    });
    const submission: Submission = {
      version: 1,
      tier: 'graph',
      contentDigest: contentDigest('graph', input),
      input,
    };
    return { ...submission, enqueuedAt: Date.now() };
  });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'rb-bench-drain-'));
  const bench = await createBenchDatabase('drain');
  const db = bench.db;
  const rekor = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), fsync: false });
  const prefixes: string[] = [];
  try {
    const data = submissions(ROWS);
    console.log(
      `rekor-budget drain benchmark (${cpus().length} CPUs, Node ${process.version}, load ${loadavg()[0]!.toFixed(1)})`,
    );
    console.log(
      `  rows       ${ROWS} Tier 1 submissions waiting offline (reason rekor_unreachable), 100 tenants`,
    );
    console.log(
      '  drain      probe, then per batch: claim rows (FOR UPDATE SKIP LOCKED), addBulk, delete, commit',
    );
    console.log('  baseline   BullMQ addBulk of the same job data in batches of the same size, no Postgres');
    console.log('');
    console.log('  batch | drain rows/s | baseline rows/s | ratio');
    for (const batchSize of BATCHES) {
      // the offline rows, inserted directly (setup, not measured)
      for (let i = 0; i < data.length; i += 1000) {
        await db
          .insertInto('attestor.rekor_offline_queue')
          .values(
            data.slice(i, i + 1000).map((d) => ({
              tenant_id: d.input.tenantId,
              tier: d.tier,
              payload: Buffer.from(JSON.stringify(d)),
              content_digest: d.contentDigest,
              reason: 'rekor_unreachable' as const,
              priority: 0,
            })),
          )
          .execute();
      }
      const prefix = `bench-drain-${randomBytes(3).toString('hex')}`;
      prefixes.push(prefix);
      const config = parseConfigObject(
        {
          attestor: {
            rekor: {
              serverUrl: rekor.url,
              redis: { url: REDIS_URL, keyPrefix: prefix, requireDurable: false },
              database: { url: bench.url },
              offline: { maxQueueSize: ROWS * 2 },
            },
          },
        },
        { source: 'bench' },
      );
      const runtime = await createRuntime({ config, name: 'rekor-budget-bench' });
      const drainer = new Drainer({ runtime, batchSize: batchSize });
      const t0 = process.hrtime.bigint();
      const report = await drainer.drainOnce();
      const drainMs = Number(process.hrtime.bigint() - t0) / 1e6;
      await drainer.stop();
      const queued = await runtime.queues.get('graph').count();
      await runtime.close();
      if (report.moved.graph !== ROWS || queued !== ROWS) {
        throw new Error(
          `the drain moved ${report.moved.graph} rows and the queue holds ${queued}, not ${ROWS}`,
        );
      }

      const basePrefix = `bench-drain-base-${randomBytes(3).toString('hex')}`;
      prefixes.push(basePrefix);
      const queue = new Queue(`rekor-graph`, { connection: { url: REDIS_URL }, prefix: `{${basePrefix}}` });
      await queue.waitUntilReady();
      const t1 = process.hrtime.bigint();
      for (let i = 0; i < data.length; i += batchSize) {
        await queue.addBulk(
          data.slice(i, i + batchSize).map((d, k) => ({
            name: SUBMISSION_JOB,
            data: d,
            opts: submissionJobOptions(config, `base-${i + k}`),
          })),
        );
      }
      const baseMs = Number(process.hrtime.bigint() - t1) / 1e6;
      await queue.close();

      const drainRate = ROWS / (drainMs / 1000);
      const baseRate = ROWS / (baseMs / 1000);
      console.log(
        `  ${String(batchSize).padStart(5)} | ${drainRate.toFixed(0).padStart(12)} | ${baseRate.toFixed(0).padStart(15)} | ${(drainRate / baseRate).toFixed(2)}x`,
      );
    }
  } finally {
    const redis = new Redis(REDIS_URL);
    for (const prefix of prefixes) await deleteKeys(redis, prefix);
    await redis.quit();
    await rekor.close();
    await bench.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

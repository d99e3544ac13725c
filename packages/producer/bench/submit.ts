/**
 * Producer benchmark: submissions/s through `submitGraphAttestation` beside
 * the same jobs through raw BullMQ `Queue.add` (what a scanner would write by
 * hand: validate nothing, one add per job), in the same run, on the same
 * Redis, with the same number in flight. Each pair runs `--runs` times,
 * alternating, and the median is printed with the ratio.
 *
 *   npm run bench -w @rekor-budget/producer   [-- --submissions 20000 --in-flight 64 --runs 3]
 *
 * Uses REDIS_URL / DATABASE_URL (defaults: the local services), its own key
 * prefix and database, removed at the end.
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { Queue } from 'bullmq';
import { createRedisKeys, parseConfigObject, type Sha256Digest } from '@rekor-budget/core';
import { createTierQueues, jobIdFor, SUBMISSION_JOB, submissionJobOptions } from '@rekor-budget/queue';
import { Redis } from 'ioredis';
import {
  createBenchDatabase,
  deleteKeys,
  graphInput,
  redisUrl,
  testDigest,
  uniquePrefix,
} from '@rekor-budget/testing';
import { createRekorProducer } from '../src';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const SUBMISSIONS = arg('submissions', 20_000);
const IN_FLIGHT = arg('in-flight', 64);
const RUNS = arg('runs', 3);

/** `n` calls of `one(i)`, at most `IN_FLIGHT` at a time; returns calls per second. */
async function rate(n: number, one: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < n) await one(next++);
    }),
  );
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const bench = await createBenchDatabase('producer');
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  const prefix = uniquePrefix('bench-producer');
  const config = parseConfigObject(
    {
      attestor: {
        rekor: {
          redis: { url: redisUrl(), keyPrefix: prefix, requireDurable: false },
          database: { url: bench.url },
          offline: { maxQueueSize: SUBMISSIONS * RUNS * 2 },
        },
      },
    },
    { source: 'bench' },
  );
  const tenants = Array.from({ length: 50 }, () => randomUUID());
  const inputs = (run: string) =>
    Array.from({ length: SUBMISSIONS }, (_, i) => graphInput(tenants[i % tenants.length]!, `${run}-${i}`));

  console.log(
    `producer benchmark (${cpus().length} CPUs, Node ${process.version}, load ${loadavg()[0]!.toFixed(1)})`,
  );
  console.log(
    `  ${SUBMISSIONS} Tier 1 submissions per run, ${IN_FLIGHT} in flight, ${RUNS} runs each, median shown`,
  );
  console.log(
    "  raw        BullMQ Queue.add(name, input, the product's job options) per submission, no checks",
  );
  console.log(
    '  product    producer.submitGraphAttestation: validation, content digest, duplicate check, backlog bound',
  );
  const raw: number[] = [];
  const product: number[] = [];
  try {
    for (let r = 0; r < RUNS; r++) {
      // raw BullMQ, its own queue under the same Redis
      const rawPrefix = `${prefix}-raw${r}`;
      const queue = new Queue('rekor-graph', { connection: redis, prefix: `{${rawPrefix}}` });
      const rawInputs = inputs(`raw${r}`);
      raw.push(
        await rate(SUBMISSIONS, (i) =>
          queue.add(
            SUBMISSION_JOB,
            rawInputs[i],
            submissionJobOptions(config, jobIdFor('graph', testDigest(`raw${r}-${i}`) as Sha256Digest)),
          ),
        ),
      );
      await queue.close();
      await deleteKeys(redis, `{${rawPrefix}}`);

      // the product, the same inputs' shape, a fresh key prefix per run
      const runConfig = { ...config, redis: { ...config.redis, keyPrefix: `${prefix}-p${r}` } };
      const producer = createRekorProducer({ config: runConfig, redis: redis, db: bench.db });
      const productInputs = inputs(`p${r}`);
      product.push(await rate(SUBMISSIONS, (i) => producer.submitGraphAttestation(productInputs[i])));
      await producer.close();
      const queues = createTierQueues({ redis: redis, keys: createRedisKeys(runConfig.redis.keyPrefix) });
      const counts = await queues.get('graph').getJobCounts('wait', 'prioritized', 'delayed');
      await queues.close();
      const queued = Object.values(counts).reduce((a, b) => a + b, 0);
      if (queued !== SUBMISSIONS)
        throw new Error(`run ${r}: ${queued} of ${SUBMISSIONS} product jobs queued`);
      await deleteKeys(redis, runConfig.redis.keyPrefix);
      console.log(
        `  run ${r + 1}: raw ${raw[r]!.toFixed(0)}/s, product ${product[r]!.toFixed(0)}/s (${(product[r]! / raw[r]!).toFixed(2)}x)`,
      );
    }
    const m = { raw: median(raw), product: median(product) };
    console.log('');
    console.log('  single submissions | raw Queue.add subm/s | producer subm/s | ratio');
    console.log(
      `  median of ${RUNS}        | ${m.raw.toFixed(0).padStart(20)} | ${m.product.toFixed(0).padStart(15)} | ${(m.product / m.raw).toFixed(2)}x`,
    );
  } finally {
    await redis.quit();
    await bench.drop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

/**
 * Producer benchmark: submissions/s through `submitGraphAttestation` beside
 * the same jobs through raw BullMQ `Queue.add` (what a scanner would write by
 * hand: validate nothing, one add per job), and `submitMany` beside raw
 * `addBulk` in batches of the same size, in the same run, on the same Redis,
 * with the same number of calls in flight. Each pair runs `--runs` times,
 * alternating, and the median is printed with the ratio; beside the rate,
 * the CPU time this process spent per submission (what the producer costs a
 * scanner; Redis's and Postgres's own CPU is not in it), which varies less
 * than the rate when the machine is shared, and the CPU time the whole
 * machine spent per submission (this process, Redis, Postgres: on a machine
 * whose cores the run keeps busy, the rate follows it).
 *
 *   npm run bench -w @rekor-budget/producer   [-- --submissions 20000 --in-flight 64 --batch 500 --batches-in-flight 4 --runs 3 --modes single,batch]
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
const BATCH = arg('batch', 500);
const BATCHES_IN_FLIGHT = arg('batches-in-flight', 4);
const modesArg = args.indexOf('--modes');
const MODES = (modesArg >= 0 ? args[modesArg + 1]! : 'single,batch').split(',');
for (const m of MODES) {
  if (m !== 'single' && m !== 'batch') throw new Error(`--modes takes single,batch (got ${m})`);
}

/** CPU time the whole machine has spent busy so far, all cores (ms). */
function machineBusyMs(): number {
  return cpus().reduce((sum, { times: t }) => sum + t.user + t.nice + t.sys + t.irq, 0);
}

/**
 * `n` calls of `one(i)`, at most `inFlight` at a time: calls per second, this
 * process's CPU time (µs), and the whole machine's (µs: this process, Redis,
 * Postgres, and anything else running).
 */
async function rate(
  n: number,
  inFlight: number,
  one: (i: number) => Promise<unknown>,
): Promise<{ perSecond: number; cpuUs: number; machineUs: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const machine = machineBusyMs();
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) await one(next++);
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    perSecond: n / (Number(process.hrtime.bigint() - start) / 1e9),
    cpuUs: used.user + used.system,
    machineUs: (machineBusyMs() - machine) * 1000,
  };
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
    `  ${SUBMISSIONS} Tier 1 submissions per run over 50 tenants, ${IN_FLIGHT} single calls or ${BATCHES_IN_FLIGHT} batches of ${BATCH} in flight, ${RUNS} runs each, median shown`,
  );
  console.log("  raw        BullMQ Queue.add / addBulk with the product's job options, no checks");
  console.log(
    '  product    createRekorProducer({ config, db }): validation, content digest, duplicate checks (queue and Postgres), backlog bound',
  );

  type Mode = 'single' | 'batch';
  /** One run's figures: submissions per second, and this process's CPU µs per submission. */
  interface Figures {
    perSecond: number;
    cpuUs: number;
    machineUs: number;
  }
  const rates: Record<Mode, { raw: Figures[]; product: Figures[] }> = {
    single: { raw: [], product: [] },
    batch: { raw: [], product: [] },
  };
  const calls = (mode: Mode) => (mode === 'single' ? SUBMISSIONS : Math.ceil(SUBMISSIONS / BATCH));
  const figures = (mode: Mode, r: Figures): Figures => ({
    perSecond: mode === 'single' ? r.perSecond : (r.perSecond * SUBMISSIONS) / calls(mode),
    cpuUs: r.cpuUs / SUBMISSIONS,
    machineUs: r.machineUs / SUBMISSIONS,
  });

  async function rawRun(mode: Mode, run: string): Promise<Figures> {
    const rawPrefix = `${prefix}-${run}`;
    const queue = new Queue('rekor-graph', { connection: redis, prefix: `{${rawPrefix}}` });
    const jobs = inputs(run).map((input, i) => ({
      name: SUBMISSION_JOB,
      data: input,
      opts: submissionJobOptions(config, jobIdFor('graph', testDigest(`${run}-${i}`) as Sha256Digest)),
    }));
    const r = await rate(calls(mode), mode === 'single' ? IN_FLIGHT : BATCHES_IN_FLIGHT, (i) =>
      mode === 'single'
        ? queue.add(jobs[i]!.name, jobs[i]!.data, jobs[i]!.opts)
        : queue.addBulk(jobs.slice(i * BATCH, (i + 1) * BATCH)),
    );
    await queue.close();
    await deleteKeys(redis, rawPrefix);
    return figures(mode, r);
  }

  async function productRun(mode: Mode, run: string): Promise<Figures> {
    const runConfig = { ...config, redis: { ...config.redis, keyPrefix: `${prefix}-${run}` } };
    const producer = createRekorProducer({ config: runConfig, redis, db: bench.db });
    const productInputs = inputs(run);
    const r = await rate(calls(mode), mode === 'single' ? IN_FLIGHT : BATCHES_IN_FLIGHT, (i) =>
      mode === 'single'
        ? producer.submitGraphAttestation(productInputs[i])
        : producer.submitMany(
            productInputs.slice(i * BATCH, (i + 1) * BATCH).map((input) => ({ tier: 'graph', input })),
          ),
    );
    await producer.close();
    const queues = createTierQueues({ redis, keys: createRedisKeys(runConfig.redis.keyPrefix) });
    const counts = await queues.get('graph').getJobCounts('wait', 'prioritized', 'delayed');
    await queues.close();
    const queued = Object.values(counts).reduce((a, b) => a + b, 0);
    if (queued !== SUBMISSIONS) throw new Error(`${run}: ${queued} of ${SUBMISSIONS} product jobs queued`);
    await deleteKeys(redis, runConfig.redis.keyPrefix);
    return figures(mode, r);
  }

  try {
    for (let r = 0; r < RUNS; r++) {
      for (const mode of MODES as Mode[]) {
        const raw = await rawRun(mode, `raw-${mode}${r}`);
        const product = await productRun(mode, `p-${mode}${r}`);
        rates[mode].raw.push(raw);
        rates[mode].product.push(product);
        const each = (f: Figures) =>
          `${f.perSecond.toFixed(0)}/s (${f.cpuUs.toFixed(1)} µs CPU each, machine ${f.machineUs.toFixed(1)})`;
        console.log(
          `  run ${r + 1} ${mode.padEnd(6)}: raw ${each(raw)}, product ${each(product)} (${(product.perSecond / raw.perSecond).toFixed(2)}x)`,
        );
      }
    }
    console.log('');
    console.log(
      `  median of ${RUNS}                 | raw subm/s | product subm/s | ratio | CPU µs/subm raw | product | ratio | machine CPU µs/subm raw | product | ratio`,
    );
    for (const [mode, label] of [
      ['single', 'Queue.add / submitGraph...'],
      ['batch', 'addBulk / submitMany      '],
    ] as const) {
      if (!MODES.includes(mode)) continue;
      const of = (who: 'raw' | 'product', k: keyof Figures) => median(rates[mode][who].map((f) => f[k]));
      const m = { raw: of('raw', 'perSecond'), product: of('product', 'perSecond') };
      const cpu = { raw: of('raw', 'cpuUs'), product: of('product', 'cpuUs') };
      const machine = { raw: of('raw', 'machineUs'), product: of('product', 'machineUs') };
      console.log(
        `  ${label} | ${m.raw.toFixed(0).padStart(10)} | ${m.product.toFixed(0).padStart(14)} | ${(m.product / m.raw).toFixed(2)}x ` +
          `| ${cpu.raw.toFixed(1).padStart(15)} | ${cpu.product.toFixed(1).padStart(7)} | ${(cpu.product / cpu.raw).toFixed(2)}x ` +
          `| ${machine.raw.toFixed(1).padStart(23)} | ${machine.product.toFixed(1).padStart(7)} | ${(machine.product / machine.raw).toFixed(2)}x`,
      );
    }
  } finally {
    await redis.quit();
    await bench.drop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

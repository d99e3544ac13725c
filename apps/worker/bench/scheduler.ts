/**
 * Scheduler benchmark: one tenant's deep backlog (submitted with the batch
 * API) and many other tenants submitting at their usual pace, through real
 * worker processes, a private Redis, a private Postgres and rekor-local.
 * Prints the other tenants' latency (p50/p99), Redis commands per admitted
 * job (INFO commandstats delta over the measured phase), Redis memory, and
 * wakes per job of the backlog.
 *
 *   npm run bench:scheduler -w @rekor-budget/worker -- [--backlog 1000000] [--tenants 1000]
 *     [--seconds 60] [--period 20] [--workers 2] [--hourly 360] [--burst-limit 3600] [--burst-window 00:00:10]
 *
 * The default budget (360 an hour, 10 per 10 s) lets the backlog wake every
 * 10 s during the run; the production default (100/h, 33 per 10 min) would
 * keep it asleep for the whole run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { SubmitRequest } from '@rekor-budget/producer';
import { graphInput } from '@rekor-budget/testing';
import {
  arg,
  BASELINE_CONCURRENCY,
  CLI,
  commandStats,
  rawBullmqCommandsPerJob,
  startBenchSystem,
  stopChild,
  sum,
  usedMemory,
} from './support';

const BACKLOG = Number(arg('backlog', '1000000'));
const TENANTS = Number(arg('tenants', '1000'));
const SECONDS = Number(arg('seconds', '60'));
const PERIOD_S = Number(arg('period', '20'));
const WORKERS = Number(arg('workers', '2'));
const BUDGET = {
  hourlyLimit: Number(arg('hourly', '360')),
  burstLimit: Number(arg('burst-limit', '3600')),
  burstWindow: arg('burst-window', '00:00:10'),
};
const BATCH = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function main() {
  say(`starting private Redis, private Postgres and rekor-local`);
  const system = await startBenchSystem('sched', { budget: BUDGET, offline: { maxQueueSize: 1_000_000 } });
  const { config, configFile, runtime, producer } = system;
  const children: ChildProcess[] = [];
  const admin = new Redis(system.redisUrl);
  try {
    say(
      `budget: ${BUDGET.hourlyLimit}/h, ${config.budget.burstWindowLimit} per ${config.budget.burstWindowMs / 1000} s; ` +
        `${WORKERS} worker process(es), concurrency 8`,
    );
    // the producer's own cost per submission, measured before any worker runs
    const probeStats = await commandStats(admin);
    const PROBES = 500;
    for (let i = 0; i < PROBES; i++)
      await producer.submitGraphAttestation(graphInput(randomUUID(), `probe-${i}`));
    const producerCost = (sum(await commandStats(admin)) - sum(probeStats)) / PROBES;
    for (let i = 0; i < WORKERS; i++) {
      const child = spawn(
        process.execPath,
        [CLI, 'worker', '--role', 'graph', '--config', configFile, '--no-metrics'],
        {
          stdio: 'ignore',
          env: { ...process.env, REDIS_URL: '', DATABASE_URL: '', REKOR_URL: '', SIGNING_KEY: '' },
        },
      );
      children.push(child);
    }

    // the probes are logged before anything is measured: they would sit ahead of
    // the other tenants' first jobs and count as admitted in the measured phase
    const probesDeadline = Date.now() + 120_000;
    while ((await runtime.receipts.count()) < PROBES && Date.now() < probesDeadline) await sleep(200);
    say(`probes: ${await runtime.receipts.count()} of ${PROBES} logged`);

    // --- the backlog --------------------------------------------------------
    const heavy = randomUUID();
    const memBefore = await usedMemory(admin);
    const t0 = Date.now();
    let parked = 0;
    for (let done = 0; done < BACKLOG; done += BATCH) {
      const n = Math.min(BATCH, BACKLOG - done);
      const requests: SubmitRequest[] = Array.from({ length: n }, (_, i) => ({
        tier: 'graph',
        input: graphInput(heavy, `backlog-${done + i}`),
      }));
      const results = await producer.submitMany(requests);
      parked += results.filter((r) => r.parked).length;
      if ((done / BATCH) % 10 === 0) say(`backlog: ${done + n} submitted`);
    }
    const enqueueS = (Date.now() - t0) / 1000;
    const memAfterBacklog = await usedMemory(admin);
    say(
      `backlog: ${BACKLOG} jobs in ${enqueueS.toFixed(1)} s (${Math.round(BACKLOG / enqueueS)}/s), ${parked} parked in Postgres`,
    );

    // --- the other tenants at their usual pace --------------------------------
    const others = Array.from({ length: TENANTS }, () => randomUUID());
    const receiptsBefore = await runtime.receipts.count();
    const statsBefore = await commandStats(admin);
    const submitted: { jobId: string; at: number }[] = [];
    const start = Date.now();
    let seq = 0;
    const submitters = others.map(async (t, k) => {
      // each tenant once per period, at its own phase
      await sleep(((k / TENANTS) * PERIOD_S * 1000) | 0);
      while (Date.now() - start < SECONDS * 1000) {
        const r = await producer.submitGraphAttestation(graphInput(t, `usual-${seq++}`));
        if (r.status === 'queued') submitted.push({ jobId: r.jobId, at: Date.now() });
        await sleep(PERIOD_S * 1000);
      }
    });
    await Promise.all(submitters);
    say(
      `others: ${submitted.length} jobs from ${TENANTS} tenants in ${SECONDS} s; waiting for their receipts`,
    );
    // wait on Postgres (receipts), so the measurement adds no Redis command of its own
    const digests = new Map(submitted.map((x) => [x.jobId.replace(/^graph-/, 'sha256:'), x.jobId]));
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const logged = await runtime.receipts.hasAny([...digests.keys()]);
      if (logged.size === digests.size) break;
      await sleep(500);
    }
    const statsAfter = await commandStats(admin);
    const receiptsAfter = await runtime.receipts.count();
    const admitted = receiptsAfter - receiptsBefore;
    const queue = runtime.queues.get('graph');
    const latencies: number[] = [];
    const pending = new Set<string>();
    for (const { jobId } of submitted) {
      const job = await queue.getJob(jobId);
      if (job?.finishedOn) latencies.push(job.finishedOn - job.data.enqueuedAt);
      else pending.add(jobId);
    }
    const calls = sum(statsAfter) - sum(statsBefore);
    const top = [...statsAfter]
      .map(([k, v]) => [k, v - (statsBefore.get(k) ?? 0)] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12);

    // --- wakes of the backlog ---------------------------------------------
    const completed = await queue.getCompleted(0, 100_000);
    const woken = completed.filter((j) => (j.data.wakes ?? 0) > 0 && j.returnvalue?.status === 'created');
    const wakes = woken.reduce((a, j) => a + (j.data.wakes ?? 0), 0);
    const reparked = completed.filter((j) => j.returnvalue?.status === 'parked').length;
    const memEnd = await usedMemory(admin);
    const dbsize = await admin.dbsize();

    console.log('');
    console.log(
      `backlog tenant: ${BACKLOG.toLocaleString('en')} jobs via submitMany, ${enqueueS.toFixed(1)} s`,
    );
    console.log(
      `other tenants: ${TENANTS}, one job each every ${PERIOD_S} s for ${SECONDS} s (${submitted.length} jobs)`,
    );
    console.log(
      `  latency submit -> done: p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms, max ${pct(latencies, 100)} ms` +
        (pending.size > 0 ? ` (${pending.size} not done within 120 s)` : ''),
    );
    console.log(
      `Redis commands per admitted job: ${(calls / admitted).toFixed(1)} (${calls} commands, ${admitted} admitted in the measured phase)`,
    );
    console.log(`  of which the producer's submission: ${producerCost.toFixed(1)} per job (measured alone)`);
    console.log(`  by command: ${top.map(([k, v]) => `${k} ${(v / admitted).toFixed(1)}`).join(', ')}`);
    console.log(
      `Redis memory: ${(memBefore / 1e6).toFixed(1)} MB before the backlog, ${(memAfterBacklog / 1e6).toFixed(1)} MB after it, ${(memEnd / 1e6).toFixed(1)} MB at the end; ${dbsize} keys`,
    );
    console.log(
      `wakes per woken job: ${woken.length ? (wakes / woken.length).toFixed(2) : 'n/a'} (${woken.length} backlog jobs woken and logged, ${reparked} runs parked a job again)`,
    );
    console.log(`backlog still parked: ${(await runtime.parking.depth()).graph}`);

    // the baseline: what BullMQ alone spends per job on the same Redis, the workers stopped
    await Promise.all(children.map((c) => stopChild(c)));
    const raw = await rawBullmqCommandsPerJob(admin, system.redisUrl, 2_000);
    console.log(
      `baseline: raw BullMQ (Queue.add -> Worker, concurrency ${BASELINE_CONCURRENCY}, no-op processor) on the same Redis: ` +
        `${raw.toFixed(1)} commands per job; rekor-budget's ${(calls / admitted).toFixed(1)} is ${(calls / admitted / raw).toFixed(2)}x`,
    );
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    await admin.quit();
    await system.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

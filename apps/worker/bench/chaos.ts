/**
 * Chaos benchmark: submissions from many tenants for several minutes while
 * workers are killed -9, Redis is killed and restarted, Postgres is stopped,
 * and rekor-local goes through 503 / 429 / slow / offline / hang. Then it
 * waits for the system to settle and checks the promise: nothing lost,
 * nothing logged twice, no budget over-admission.
 *
 *   npm run chaos   [-- --submissions 10000 --tenants 50 --minutes 5 --workers 2]
 *
 * Private Redis (AOF, appendfsync always) and Postgres instances on other
 * ports; the machine's shared services are not touched. Prints numbers, not a
 * test: exit 1 if anything is lost, duplicated or over-admitted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Redis } from 'ioredis';
import { createRedisKeys, parseConfigObject, SECOND_MS } from '@rekor-budget/core';
import { createDb } from '@rekor-budget/db';
import { createRekorProducer } from '@rekor-budget/producer';
import {
  createLanes,
  createReceiptStore,
  createTierQueues,
  OfflineQueue,
  ParkingLot,
  RejectedStore,
  type SubmissionJobData,
} from '@rekor-budget/queue';
import { writeKeyPair } from '@rekor-budget/rekor';
import { startRekorLocal } from '@rekor-budget/rekor-local';
import { startPrivatePostgres, startPrivateRedis } from '@rekor-budget/testing';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const SUBMISSIONS = arg('submissions', 10_000);
const TENANTS = arg('tenants', 50);
const MINUTES = arg('minutes', 5);
const WORKERS = arg('workers', 2);
const SETTLE_MINUTES = arg('settle-minutes', 15);
/** A directory for the worker processes' logs (`--logs DIR`); without it their output is dropped. */
const LOGS = (() => {
  const i = args.indexOf('--logs');
  return i >= 0 ? args[i + 1] : undefined;
})();
const CLI = join(__dirname, '..', '..', 'cli', 'bin', 'rekor-budget.js');

/** Budget of the run: the burst window binds (per tenant: 50 a minute, 400 an hour). */
const BUDGET = { hourlyLimit: 400, burstLimit: 3000, burstWindow: '00:01:00' };
const BURST_CAP = Math.floor((BUDGET.burstLimit * 60) / 3600);
const REQUEST_TIMEOUT_S = 3;

const sha = () => `sha256:${randomBytes(32).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stamp = () => new Date().toISOString().slice(11, 19);
const say = (line: string) => console.log(`[${stamp()}] ${line}`);

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'rb-chaos-'));
  if (LOGS) mkdirSync(LOGS, { recursive: true });
  const redis = await startPrivateRedis({ durable: true });
  const pg = await startPrivatePostgres();
  const rekor = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), faults: true });
  const key = await writeKeyPair(join(dir, 'signing.pem'));
  const children = new Set<ChildProcess>();
  const rekorConfig = {
    serverUrl: rekor.url,
    redis: { url: redis.url, keyPrefix: 'chaos' },
    database: { url: pg.url },
    signing: { keyPath: key.privateKeyPath },
    budget: BUDGET,
    retry: { maxAttempts: 3, initialDelay: '00:00:00.200', maxDelay: '00:00:02' },
    requestTimeout: `00:00:0${REQUEST_TIMEOUT_S}`,
    offline: { probeInterval: '00:00:02', maxQueueSize: SUBMISSIONS * 2 },
  };
  const configFile = join(dir, 'attestor.yaml');
  writeFileSync(configFile, stringify({ attestor: { rekor: rekorConfig } }));
  const config = parseConfigObject({ attestor: { rekor: rekorConfig } }, { source: 'chaos' });

  let spawned = 0;
  const spawnWorker = (role: string) => {
    const log = LOGS ? openSync(join(LOGS, `${role}-${++spawned}.log`), 'a') : 'ignore';
    const child = spawn(
      process.execPath,
      [CLI, 'worker', '--role', role, '--config', configFile, '--no-metrics', '--lock-duration', '5000'],
      {
        stdio: ['ignore', log, log],
        env: { ...process.env, REDIS_URL: '', DATABASE_URL: '', REKOR_URL: '', SIGNING_KEY: '' },
      },
    );
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  const graphWorkers: ChildProcess[] = [];
  for (let i = 0; i < WORKERS; i++) graphWorkers.push(spawnWorker('graph'));
  spawnWorker('drain');

  const db = createDb({ url: pg.url, max: 4 });
  const producer = createRekorProducer({ config, db, redisTimeoutMs: 2_000 });
  const tenants = Array.from({ length: TENANTS }, () => randomUUID());
  const accepted = new Map<string, string>(); // content digest -> tenant
  let refused = 0;
  const refusals = new Map<string, number>();
  let stopChaos = false;
  const events: string[] = [];

  // --- the chaos -----------------------------------------------------------
  const chaos = (async () => {
    const faults = [
      async () => {
        const i = Math.floor(Math.random() * graphWorkers.length);
        graphWorkers[i]!.kill('SIGKILL');
        events.push('kill -9 a graph worker');
        await sleep(3_000);
        graphWorkers[i] = spawnWorker('graph');
      },
      async () => {
        await redis.kill();
        events.push('kill -9 Redis');
        await sleep(2_000);
        await redis.start();
      },
      async () => {
        await pg.stop();
        events.push('stop Postgres 10 s');
        await sleep(10_000);
        await pg.start();
      },
      ...(['503', '429', 'slow', 'offline', 'hang'] as const).map((mode) => async () => {
        rekor.faults.set(mode === 'slow' ? { mode, delayMs: 1_000 } : { mode });
        events.push(`rekor-local ${mode} 10 s`);
        await sleep(10_000);
        rekor.faults.clear();
      }),
    ];
    let n = 0;
    while (!stopChaos) {
      await sleep(8_000);
      if (stopChaos) break;
      const fault = faults[n++ % faults.length]!;
      say(
        `chaos: ${['kill worker', 'kill Redis', 'stop Postgres', '503', '429', 'slow', 'offline', 'hang'][(n - 1) % faults.length]}`,
      );
      await fault();
    }
  })();

  // --- the submissions, paced over the run --------------------------------
  const started = Date.now();
  const spanMs = MINUTES * 60_000;
  for (let i = 0; i < SUBMISSIONS; i++) {
    const due = started + (i * spanMs) / SUBMISSIONS;
    if (Date.now() < due) await sleep(due - Date.now());
    const tenantId = tenants[i % tenants.length]!;
    try {
      const r = await producer.submitGraphAttestation({
        tenantId,
        scanId: `chaos-${i}`,
        subject: { name: 'registry.example/app', digest: sha() },
        graphDigest: sha(),
        scanner: { name: 'stella-scanner', version: '1.4.2' },
        scanFinishedAt: new Date().toISOString(),
      });
      if (r.status === 'queued' || r.status === 'overflowed') accepted.set(r.contentDigest, tenantId);
      else refused += 1;
    } catch (e) {
      // the producer said nothing was stored (Redis and Postgres both away): not accepted
      refused += 1;
      const code = (e as { code?: string }).code ?? 'error';
      refusals.set(code, (refusals.get(code) ?? 0) + 1);
      // every refusal should carry a code: one that does not is a defect, shown with its message
      if (code === 'error') say(`refused without a code: ${e instanceof Error ? e.stack : String(e)}`);
    }
    if (i % 1000 === 999) say(`submitted ${i + 1}, accepted ${accepted.size}`);
  }
  stopChaos = true;
  await chaos;
  rekor.faults.clear();
  say(`submissions done after ${((Date.now() - started) / 1000).toFixed(0)} s; faults: ${events.length}`);

  // --- settle ---------------------------------------------------------------
  const receipts = createReceiptStore(db);
  const deadline = Date.now() + SETTLE_MINUTES * 60_000;
  let logged = 0;
  while (Date.now() < deadline) {
    try {
      logged = await receipts.count();
    } catch {
      // Postgres is back by now; a pool reconnecting may fail a query once
    }
    if (logged >= accepted.size) break;
    await sleep(2 * SECOND_MS);
  }

  // --- the verdict -----------------------------------------------------------
  const all = await receipts.list({ limit: null });
  const byDigest = new Set<string>(all.map((r) => r.contentDigest));
  const lostDigests = [...accepted.keys()].filter((d) => !byDigest.has(d));
  const lost = lostDigests.length;
  const entries = readFileSync(join(dir, 'log', 'entries.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean);
  const perPayload = new Map<string, number>();
  for (const line of entries) {
    const body = JSON.parse(
      Buffer.from((JSON.parse(line) as { b: string }).b, 'base64').toString('utf8'),
    ) as {
      spec: { payloadHash: { value: string } };
    };
    const h = body.spec.payloadHash.value;
    perPayload.set(h, (perPayload.get(h) ?? 0) + 1);
  }
  const duplicates = [...perPayload.values()].reduce((a, n) => a + n - 1, 0);
  const admin = new Redis(redis.url);
  const queues = createTierQueues({ redis: admin, keys: createRedisKeys('chaos') });
  const failed = await queues.get('graph').getFailedCount();
  const whereLost = lost > 0 ? await whereAre(lostDigests, db, admin, queues) : '';

  // Over-admission from receipt times: an entry is integrated within one request
  // timeout of its admission, so any window of W - T seconds may hold at most the cap.
  let overAdmissions = 0;
  const byTenant = new Map<string, number[]>();
  for (const r of all) {
    const list = byTenant.get(r.tenantId) ?? [];
    list.push(Math.floor(r.integratedTime.getTime() / 1000));
    byTenant.set(r.tenantId, list);
  }
  for (const times of byTenant.values()) {
    times.sort((a, b) => a - b);
    for (const [windowS, cap] of [
      [60 - REQUEST_TIMEOUT_S - 1, BURST_CAP],
      [3600 - REQUEST_TIMEOUT_S - 1, BUDGET.hourlyLimit],
    ] as const) {
      let lo = 0;
      for (let hi = 0; hi < times.length; hi++) {
        while (times[hi]! - times[lo]! >= windowS) lo += 1;
        if (hi - lo + 1 > cap) overAdmissions += 1;
      }
    }
  }

  console.log(`\nrekor-budget chaos benchmark (${cpus().length} CPUs, Node ${process.version})`);
  console.log(
    `  run                ${MINUTES} min, ${TENANTS} tenants, ${WORKERS} graph workers + 1 drain (processes)`,
  );
  console.log(`  faults             ${events.length}: ${[...new Set(events)].join('; ')}`);
  console.log(`  submitted          ${SUBMISSIONS}`);
  console.log(
    `  accepted           ${accepted.size} (refused while Redis and Postgres were both away: ${refused}${
      refused > 0 ? `: ${[...refusals].map(([c, n]) => `${c} ${n}`).join(', ')}` : ''
    })`,
  );
  console.log(`  logged (receipts)  ${byDigest.size}`);
  console.log(`  log entries        ${entries.length}`);
  console.log(`  lost               ${lost}${whereLost}`);
  console.log(`  duplicates in log  ${duplicates}`);
  console.log(`  failed jobs        ${failed}`);
  console.log(
    `  over-admissions    ${overAdmissions} (burst cap ${BURST_CAP}/min, hourly ${BUDGET.hourlyLimit})`,
  );
  if (lost > 0 || duplicates > 0 || overAdmissions > 0 || failed > 0) process.exitCode = 1;

  await queues.close();
  await admin.quit();
  for (const c of children) c.kill('SIGTERM');
  await Promise.all([...children].map((c) => new Promise((r) => c.once('exit', r))));
  await producer.close();
  await db.destroy();
  await rekor.close();
  await redis.destroy();
  await pg.destroy();
  rmSync(dir, { recursive: true, force: true });
}

/** Where the unlogged submissions wait, if anywhere: parked, offline, rejected or in the queue. */
async function whereAre(
  digests: string[],
  db: ReturnType<typeof createDb>,
  redis: Redis,
  queues: ReturnType<typeof createTierQueues>,
): Promise<string> {
  const [parked, offline, rejected] = await Promise.all([
    new ParkingLot(db).parkedOf(digests),
    new OfflineQueue(db).hasAny(digests),
    new RejectedStore(db).hasAny(digests),
  ]);
  const states = new Map<string, string>();
  const queue = queues.get('graph');
  for (const state of [
    'waiting',
    'delayed',
    'prioritized',
    'paused',
    'active',
    'completed',
    'failed',
  ] as const) {
    for (const job of await queue.getJobs([state])) {
      const d = (job.data as SubmissionJobData | undefined)?.contentDigest;
      if (d !== undefined && !states.has(d))
        states.set(d, `${state}:${JSON.stringify(job.returnvalue ?? null)}`);
    }
  }
  const lanes = await createLanes(redis, createRedisKeys('chaos')).list('graph');
  const tally = new Map<string, number>();
  for (const d of digests) {
    const where = parked.has(d)
      ? 'parked'
      : offline.has(d)
        ? 'offline'
        : rejected.has(d)
          ? 'rejected'
          : (states.get(d)?.slice(0, 60) ?? 'nowhere');
    tally.set(where, (tally.get(where) ?? 0) + 1);
  }
  const parts = [...tally].map(([w, n]) => `${w} ${n}`);
  return ` (${parts.join('; ')}; lanes in Redis: ${lanes.length})`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/**
 * Redis commands per job, by source: every command Redis runs while jobs go
 * from the producer to a receipt (MONITOR on a private Redis; a script's own
 * commands count to the script), split into BullMQ's part and rekor-budget's,
 * beside plain BullMQ on the same Redis (`Queue.add` -> `Worker`, no-op
 * processor) measured in the same run.
 *
 *   npm run bench:commands -w @rekor-budget/worker -- [--jobs 500] [--per-tenant 1]
 *
 * `--per-tenant 1` is the policy's usual case (each tenant submits its scans
 * one at a time); `--per-tenant 50` lets a tenant's jobs share its budget
 * decisions and tallies. One worker process (concurrency 8), a budget wide
 * enough that nothing parks, rekor-local, a private Postgres.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
// BullMQ's scripts as it ships them (name and text), to name a script by its SHA1
import * as bullmqScripts from 'bullmq/dist/cjs/scripts';
import { Redis } from 'ioredis';
import { loadLuaScript } from '@rekor-budget/core';
import { graphInput, waitFor } from '@rekor-budget/testing';
import { arg, CLI, rawBullmqCommandsPerJob, spawnNode, startBenchSystem, stopChild } from './support';

const JOBS = Number(arg('jobs', '500'));
const PER_TENANT = Number(arg('per-tenant', '1'));
const WARM_UP = 50;
const IDLE_SECONDS = Number(arg('idle-seconds', '10'));

/** Script SHA1 -> who runs it and its name: BullMQ's scripts and rekor-budget's. */
function scriptNames(): Map<string, { owner: 'BullMQ' | 'rekor-budget'; name: string }> {
  const out = new Map<string, { owner: 'BullMQ' | 'rekor-budget'; name: string }>();
  const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
  for (const s of Object.values(bullmqScripts as Record<string, { name: string; content: string }>))
    out.set(sha1(s.content), { owner: 'BullMQ', name: s.name });
  for (const pkg of ['budget', 'queue']) {
    const dir = join(dirname(require.resolve(`@rekor-budget/${pkg}`)), 'scripts');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.lua'))) {
      const name = file.slice(0, -'.lua'.length);
      out.set(sha1(loadLuaScript(dir, name)), { owner: 'rekor-budget', name });
    }
  }
  return out;
}

/** A key with its ids and digests replaced, so one family is one row. */
function family(key: string | undefined): string {
  return (key ?? '')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<tenant>')
    .replace(/(graph|edge)-[0-9a-f]{40,}[^ ]*/g, '<job>')
    .replace(/[0-9a-f]{64}/g, '<digest>');
}

interface Row {
  owner: string;
  source: string;
  calls: number;
  commands: number;
}

/** Commands seen by MONITOR, grouped by source: a script with the commands it ran, or a plain command. */
function attribute(lines: { source: string; args: string[] }[]): Row[] {
  const names = scriptNames();
  const rows = new Map<string, Row>();
  let current: Row | undefined;
  for (const { source, args } of lines) {
    if (source === 'lua') {
      if (current) current.commands++;
      continue;
    }
    const cmd = args[0]!.toLowerCase();
    let owner = 'rekor-budget';
    let label: string;
    if (cmd === 'evalsha' || cmd === 'eval') {
      const script = cmd === 'evalsha' ? names.get(args[1]!) : undefined;
      owner = script?.owner ?? 'unknown';
      label = `script ${script?.name ?? args[1]!.slice(0, 12)} on ${family(args[3])}`;
    } else {
      // BullMQ's worker waits for jobs with BZPOPMIN on its marker; every other plain command is rekor-budget's
      if (cmd === 'bzpopmin') owner = 'BullMQ';
      label = `${cmd} ${family(args[1])}`;
    }
    const key = `${owner} ${label}`;
    current = rows.get(key) ?? { owner, source: label, calls: 0, commands: 0 };
    rows.set(key, current);
    current.calls++;
    current.commands++;
  }
  return [...rows.values()].sort((a, b) => b.commands - a.commands);
}

async function main() {
  // wide enough that no job of the run parks: the hour and a 10 s window both hold a tenant's jobs
  const hourly = Math.max(360, PER_TENANT * 2);
  const system = await startBenchSystem('commands', {
    budget: { hourlyLimit: hourly, burstLimit: hourly * 360, burstWindow: '00:00:10' },
  });
  const { runtime, producer } = system;
  const worker = spawnNode([CLI, 'worker', '--role', 'graph', '--config', system.configFile, '--no-metrics']);
  worker.stdout?.resume();
  const monitor = new Redis(system.redisUrl);
  try {
    // the first jobs load the scripts and open the connections: not measured
    for (let i = 0; i < WARM_UP; i++)
      await producer.submitGraphAttestation(graphInput(randomUUID(), `warm-${i}`));
    await waitFor(async () => (await runtime.receipts.count()) >= WARM_UP, 120_000, 'the warm-up receipts');

    const lines: { source: string; args: string[] }[] = [];
    const feed = await monitor.monitor();
    feed.on('monitor', (_time: string, args: string[], source: string) => lines.push({ source, args }));
    const tenants = Array.from({ length: Math.ceil(JOBS / PER_TENANT) }, () => randomUUID());
    const started = Date.now();
    if (PER_TENANT === 1) {
      for (let i = 0; i < JOBS; i++)
        await producer.submitGraphAttestation(graphInput(tenants[i]!, `job-${i}`));
    } else {
      for (const [t, tenant] of tenants.entries()) {
        const n = Math.min(PER_TENANT, JOBS - t * PER_TENANT);
        await producer.submitMany(
          Array.from({ length: n }, (_, k) => ({
            tier: 'graph' as const,
            input: graphInput(tenant, `job-${t}-${k}`),
          })),
        );
      }
    }
    await waitFor(async () => (await runtime.receipts.count()) >= WARM_UP + JOBS, 300_000, 'the receipts');
    const seconds = (Date.now() - started) / 1000;
    feed.disconnect();

    const rows = attribute(lines);
    const total = (owner?: string) =>
      rows.filter((r) => owner === undefined || r.owner === owner).reduce((n, r) => n + r.commands, 0) / JOBS;
    console.log(
      `Redis commands per job: ${JOBS} jobs, ${PER_TENANT} per tenant (${tenants.length} tenants), ` +
        `submitted ${PER_TENANT === 1 ? 'one at a time' : 'with submitMany per tenant'}, logged in ${seconds.toFixed(1)} s`,
    );
    console.log('  per job   calls/job  owner          source');
    for (const r of rows.filter((x) => x.commands / JOBS >= 0.05)) {
      console.log(
        `  ${(r.commands / JOBS).toFixed(2).padStart(7)}   ${(r.calls / JOBS).toFixed(2).padStart(9)}  ${r.owner.padEnd(13)}  ${r.source}`,
      );
    }
    const small = rows.filter((x) => x.commands / JOBS < 0.05).reduce((n, r) => n + r.commands, 0) / JOBS;
    console.log(`  ${small.toFixed(2).padStart(7)}              (rows under 0.05 per job)`);
    console.log(
      `  total ${total().toFixed(1)} per job: BullMQ ${total('BullMQ').toFixed(1)}, rekor-budget ${total('rekor-budget').toFixed(1)}` +
        (total('unknown') > 0 ? `, unknown scripts ${total('unknown').toFixed(1)}` : ''),
    );

    // the same worker process with nothing to do: what it costs Redis while idle
    const idleLines: { source: string; args: string[] }[] = [];
    const idleFeed = await monitor.monitor();
    idleFeed.on('monitor', (_time: string, args: string[], source: string) =>
      idleLines.push({ source, args }),
    );
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    idleFeed.disconnect();
    const idleRows = attribute(idleLines);
    const perSecond = (n: number) => (n / IDLE_SECONDS).toFixed(1);
    console.log(
      `idle: the worker process (graph role: worker, scheduler, drain) with nothing to do for ${IDLE_SECONDS} s: ` +
        `${perSecond(idleRows.reduce((n, r) => n + r.commands, 0))} Redis commands/s`,
    );
    for (const r of idleRows.filter((x) => x.commands / IDLE_SECONDS >= 0.1)) {
      console.log(`  ${perSecond(r.commands).padStart(7)}/s  ${r.owner.padEnd(13)}  ${r.source}`);
    }
    await stopChild(worker);
    const admin = new Redis(system.redisUrl);
    const raw = await rawBullmqCommandsPerJob(admin, system.redisUrl, 2_000);
    await admin.quit();
    console.log(
      `baseline: raw BullMQ (Queue.add -> Worker, concurrency 8, no-op processor) on the same Redis: ${raw.toFixed(1)} per job; ` +
        `rekor-budget's total is ${(total() / raw).toFixed(2)}x`,
    );
  } finally {
    await stopChild(worker);
    monitor.disconnect();
    await system.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

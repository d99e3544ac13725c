/**
 * Benchmark: entries appended per second over HTTP with concurrent clients.
 *
 * The log runs in a child process (so it has a core of its own, as it would
 * in a deployment); this process pre-signs every entry first, so the numbers
 * measure the log (parse, signature check, append, proof, SET, write), not
 * the clients' signing. Prints numbers; asserts nothing.
 *
 *   npm run bench -w @rekor-budget/rekor-local [-- entries concurrency]
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRekorLocal } from '../src';
import { dsseEntry, newKey } from '../test/helpers/proposed';

const ENTRIES = Number(process.argv[2] ?? 10000);
const CONCURRENCY = Number(process.argv[3] ?? 64);
const WARM_UP = 1000;

if (process.argv[2] === '--serve') {
  void serve(process.argv[3]!, process.argv[4] === 'fsync');
} else {
  void main();
}

async function serve(dataDir: string, fsync: boolean): Promise<void> {
  const server = await startRekorLocal({ port: 0, dataDir, fsync });
  process.send!({ url: server.url });
  process.on('message', () => void server.close().then(() => process.exit(0)));
}

async function main(): Promise<void> {
  console.log(`rekor-local append benchmark: ${ENTRIES} dsse entries, ${CONCURRENCY} concurrent clients`);
  console.log('pre-signing every entry first, so the timing below measures the log only...');
  console.log(`each run: a fresh log, ${WARM_UP} untimed warm-up entries, then ${ENTRIES} timed`);
  const key = newKey();
  const bodies = Array.from({ length: ENTRIES + WARM_UP }, (_, i) =>
    JSON.stringify(dsseEntry(key, Buffer.from(JSON.stringify({ _type: 'bench', n: i, at: Date.now() })))),
  );
  for (const fsync of [true, false]) {
    const rate = await run(bodies, fsync);
    console.log(`  fsync ${fsync ? 'on ' : 'off'}: ${rate.toFixed(0)} entries/s appended over HTTP`);
  }
}

async function run(bodies: string[], fsync: boolean): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rekor-local-bench-'));
  const child = fork(__filename, ['--serve', dataDir, fsync ? 'fsync' : 'nofsync']);
  const url = await new Promise<string>((resolve) =>
    child.once('message', (m: { url: string }) => resolve(m.url)),
  );
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  await drive(`${url}/api/v1/log/entries`, bodies.slice(0, WARM_UP), agent);
  const timed = bodies.slice(WARM_UP);
  const started = process.hrtime.bigint();
  const failed = await drive(`${url}/api/v1/log/entries`, timed, agent);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  child.send('stop');
  await new Promise((r) => child.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
  if (failed) console.log(`  (${failed} requests did not answer 201)`);
  return (timed.length - failed) / seconds;
}

/** Sends every body with CONCURRENCY clients in parallel; resolves to how many did not answer 201. */
async function drive(url: string, bodies: string[], agent: Agent): Promise<number> {
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) {
        if ((await postEntry(url, bodies[next++]!, agent)) !== 201) failed++;
      }
    }),
  );
  return failed;
}

function postEntry(url: string, body: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'Content-Type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

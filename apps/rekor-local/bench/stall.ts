/**
 * Benchmark: does one hostile request stall rekor-local? (issue 14, finding 5)
 *
 * The log runs in a child process. For each scenario this process POSTs the
 * entry and, while the POST runs (and at least 5 times), GETs
 * /api/v1/log one request after another, timing each; ROUNDS rounds per
 * scenario. Prints p50, p95 and the largest GET latency; the target is
 * under 100 ms. Asserts nothing.
 *
 *   npm run bench:stall -w @rekor-budget/rekor-local [-- rounds]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startRekorLocal } from '../src';
import { costliestDsseEntry, hashedRekordEntry, newKey, reportedStallEntry } from '../test/helpers/proposed';

const ROUNDS = Number(process.argv[2] ?? 10);
const TARGET_MS = 100;

if (process.argv[2] === '--serve') {
  void serve(process.argv[3]!);
} else {
  void main();
}

async function serve(dataDir: string): Promise<void> {
  const server = await startRekorLocal({ port: 0, dataDir, fsync: false });
  process.send!({ url: server.url });
  process.on('message', () => void server.close().then(() => process.exit(0)));
}

function call(url: string, method: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, agent: false, headers: { connection: 'close', 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rekor-local-stall-'));
  const child = fork(__filename, ['--serve', dataDir]);
  const url = await new Promise<string>((resolve) =>
    child.once('message', (m: { url: string }) => resolve(m.url)),
  );
  console.log(
    `rekor-local stall benchmark: GET /api/v1/log latency while a hostile POST runs, ${ROUNDS} rounds each`,
  );
  const key = newKey();
  const scenarios: [string, (round: number) => unknown][] = [
    ['idle (no POST)', () => undefined],
    ['reported dsse entry (260 verifiers, 500 signatures)', () => reportedStallEntry()],
    ['costliest dsse within the caps (8 x 8 P-521)', (r) => costliestDsseEntry(`bench-${r}`)],
    ['the costliest entry again (a duplicate)', () => repeat],
    ['hashedrekord (P-256 over a digest)', (r) => hashedRekordEntry(key, Buffer.from(`artifact ${r}`))],
  ];
  // logged once before its scenario, so every round of it is a duplicate
  const repeat = costliestDsseEntry('bench-repeat');
  await call(`${url}/api/v1/log/entries`, 'POST', JSON.stringify(repeat));
  for (const [name, make] of scenarios) {
    const latencies: number[] = [];
    const statuses = new Set<number>();
    for (let round = 0; round < ROUNDS; round++) {
      const entry = make(round);
      const body = entry === undefined ? undefined : JSON.stringify(entry);
      let done = body === undefined;
      const post =
        body === undefined
          ? Promise.resolve()
          : call(`${url}/api/v1/log/entries`, 'POST', body).then((s) => {
              statuses.add(s);
              done = true;
            });
      let n = 0;
      while (!done || n < 5) {
        const started = performance.now();
        await call(`${url}/api/v1/log`, 'GET');
        latencies.push(performance.now() - started);
        n++;
      }
      await post;
    }
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!;
    const max = latencies[latencies.length - 1]!;
    console.log(
      `  ${name.padEnd(52)} POST ${[...statuses].join('/') || '-'}  GET p50 ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms, max ${max.toFixed(1)} ms ${max < TARGET_MS ? '(under 100 ms)' : '(OVER 100 ms)'}`,
    );
  }
  child.send('stop');
  await new Promise((r) => child.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}

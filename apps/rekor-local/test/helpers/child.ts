import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** rekor-local in a process of its own (the built package), as it runs in a deployment. */
export interface ChildServer {
  url: string;
  close(): Promise<void>;
}

const DIST = join(__dirname, '..', '..', 'dist', 'index.js');

const SCRIPT = `
const { startRekorLocal } = require(process.argv[1]);
startRekorLocal({ port: 0, dataDir: process.argv[2], fsync: false }).then((server) => {
  process.stdout.write(server.url + '\\n');
  process.once('SIGTERM', () => server.close().then(() => process.exit(0)));
});
`;

/** Starts the built rekor-local (`npm run build` first) on a free port; `close()` stops it. */
export async function startChildServer(dataDir: string): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, ['-e', SCRIPT, DIST, dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(http:\/\/\S+)\n/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`rekor-local exited (${code}) before listening: ${out}`)));
  });
  return {
    url,
    close: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const CLIENT = `
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const [url, bodiesJson, min] = process.argv.slice(1);
const bodies = JSON.parse(require('node:fs').readFileSync(bodiesJson, 'utf8'));
const call = (method, path, body) =>
  new Promise((resolve, reject) => {
    const req = http.request(url + path, { method, agent: false, headers: { connection: 'close', 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
(async () => {
  let done = false;
  const posts = Promise.all(bodies.map((b) => call('POST', '/api/v1/log/entries', JSON.stringify(b)))).finally(() => (done = true));
  const latencies = [];
  const gets = [];
  while (!done || latencies.length < Number(min)) {
    const started = performance.now();
    gets.push(await call('GET', '/api/v1/log'));
    latencies.push(performance.now() - started);
  }
  process.stdout.write(JSON.stringify({ statuses: await posts, gets, latencies }));
})();
`;

/** What `measureDuring` saw: the POSTs' statuses, and each concurrent GET's status and latency (ms). */
export interface Measured {
  statuses: number[];
  gets: number[];
  latencies: number[];
}

/**
 * From a process of its own (so the test runner's pauses are not counted):
 * POSTs `bodiesFile` (a JSON list of proposed entries) to the log all at
 * once and, while they run and at least `min` times, GETs /api/v1/log one
 * after another, timing each.
 */
export function measureDuring(url: string, bodiesFile: string, min = 5): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CLIENT, url, bodiesFile, String(min)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Measured) : reject(new Error(`the client exited ${code}`)),
    );
  });
}

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger, RekorConfig } from '@rekor-budget/core';
import { createRekorProducer, type RekorProducer } from '@rekor-budget/producer';
import { RejectedStore } from '@rekor-budget/queue';
import { loadSigner, openCheckpoint, trustedLogs, verifyBundle, writeKeyPair } from '@rekor-budget/rekor';
import { startRekorLocal, type RekorLocalServer, type TrustedRootJson } from '@rekor-budget/rekor-local';
import { createRuntime, type Runtime } from '@rekor-budget/runtime';
import { createTestRedis, createTestServices, type TestServices } from '@rekor-budget/testing';
import { createTierWorker, Drainer } from '@rekor-budget/worker';
import { graphInput, waitFor } from './harness';

jest.setTimeout(90_000);

/** Everything of one run against Rekor v2 logs (rekor-local `--api v2`). */
interface V2Run {
  s: TestServices;
  dir: string;
  logs: RekorLocalServer[];
  config: RekorConfig;
  runtime: Runtime;
  producer: RekorProducer;
  warnings: string[];
  startWorker(): Worker;
  drainer(): Drainer;
  close(): Promise<void>;
}

/** One trusted root naming every log (and TSA) given, as a rotation's trusted root does. */
function combinedRoot(logs: RekorLocalServer[]): TrustedRootJson {
  const roots = logs.map((l) => l.trustedRoot());
  return {
    ...roots[0]!,
    tlogs: roots.flatMap((r) => r.tlogs),
    timestampAuthorities: roots.flatMap((r) => r.timestampAuthorities),
  };
}

function recordingLogger(warnings: string[]): Logger {
  const logger: Logger = {
    error: () => undefined,
    warn: (_fields: unknown, message?: string) => void warnings.push(String(message)),
    info: () => undefined,
    debug: () => undefined,
    child: () => logger,
  } as Logger;
  return logger;
}

async function startRun(
  shards: number,
  rekor: (logs: RekorLocalServer[], dir: string) => Record<string, unknown>,
) {
  const dir = mkdtempSync(join(tmpdir(), 'rb-v2-'));
  const s = await createTestServices('v2');
  const logs: RekorLocalServer[] = [];
  for (let i = 0; i < shards; i++) {
    logs.push(
      await startRekorLocal({
        port: 0,
        dataDir: join(dir, `log-${i}`),
        api: 'v2',
        faults: true,
        fsync: false,
      }),
    );
  }
  const trustedRoot = join(dir, 'trusted_root.json');
  writeFileSync(trustedRoot, JSON.stringify(combinedRoot(logs)));
  const key = await writeKeyPair(join(dir, 'signing.pem'));
  const config = s.config({
    tier: 'with-edges',
    signing: { keyPath: key.privateKeyPath },
    retry: { maxAttempts: 3, initialDelay: '00:00:00.050', maxDelay: '00:00:00.200' },
    offline: { probeInterval: '00:00:01' },
    requestTimeout: '00:00:05',
    trustedRoot,
    ...rekor(logs, dir),
  });
  const warnings: string[] = [];
  const runtime = await createRuntime({
    config,
    name: 'rekor-budget-test',
    logger: recordingLogger(warnings),
  });
  const signer = await loadSigner({ keyPath: key.privateKeyPath });
  const producer = createRekorProducer({ config, redis: s.redis, db: runtime.db });
  const workers: Worker[] = [];
  const connections: Redis[] = [];
  const drainers: Drainer[] = [];
  const run: V2Run = {
    s,
    dir,
    logs,
    config,
    runtime,
    producer,
    warnings,
    startWorker() {
      const connection = createTestRedis();
      connections.push(connection);
      const w = createTierWorker({ runtime, tier: 'graph', signer, connection, concurrency: 4 });
      workers.push(w);
      return w;
    },
    drainer() {
      const d = new Drainer({ runtime });
      drainers.push(d);
      return d;
    },
    async close() {
      for (const d of drainers) await d.stop();
      for (const w of workers) await w.close();
      for (const c of connections) await c.quit();
      await producer.close();
      await runtime.close();
      for (const l of logs) await l.close();
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return run;
}

let run: V2Run | undefined;
afterEach(async () => {
  await run?.close();
  run = undefined;
});

/** The signed tree size of a v2 log, read from its checkpoint under the trusted root. */
async function checkpointSize(log: RekorLocalServer, root: TrustedRootJson): Promise<number> {
  const note = await (await fetch(`${log.url}/checkpoint`)).text();
  return openCheckpoint(note, trustedLogs(root)).size;
}

async function submit(r: V2Run, tenant: string, prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push((await r.producer.submitGraphAttestation(graphInput(tenant, `${prefix}-${i}`))).contentDigest);
  return ids;
}

describe('the pipeline against Rekor v2 (rekor-local --api v2, as rekor-tiles serves it)', () => {
  test('producer, workers and the drain after an outage log and receipt every submission; each bundle verifies with a timestamp required', async () => {
    run = await startRun(1, ([log]) => ({
      serverUrl: log!.url,
      apiVersion: 2,
      timestampAuthority: { url: `${log!.url}/api/v1/timestamp` },
    }));
    const r = run;
    const [log] = r.logs;
    const root = combinedRoot(r.logs);
    expect((await fetch(`${log!.url}/api/v1/log`)).status).toBe(404);
    const probe = await r.runtime.probeRekor();
    expect(probe).toMatchObject({ state: 'reachable', treeSize: 0 });
    expect(probe.detail).toContain('checkpoint verified');
    expect((await r.runtime.readiness()).rekor?.ok).toBe(true);

    r.startWorker();
    const tenant = randomUUID();
    const first = await submit(r, tenant, 'up', 5);
    await waitFor(async () => (await r.runtime.receipts.count()) === 5, 30_000, 'five receipts');

    // an outage: the log (and its TSA) refuse connections
    log!.faults.set({ mode: 'offline' });
    expect((await r.runtime.probeRekor()).state).toBe('unreachable');
    expect((await r.runtime.readiness()).rekor?.ok).toBe(false);
    const second = await submit(r, tenant, 'down', 5);
    await waitFor(async () => (await r.runtime.offline.list()).length === 5, 30_000, 'five offline rows');
    expect(await r.drainer().drainOnce()).toMatchObject({ rekorUp: false });

    log!.faults.clear();
    expect(await r.drainer().drainOnce()).toMatchObject({ rekorUp: true, moved: { graph: 5, edge: 0 } });
    await waitFor(async () => (await r.runtime.receipts.count()) === 10, 30_000, 'ten receipts');

    const receipts = await r.runtime.receipts.list({ limit: null });
    expect(receipts.map((x) => x.contentDigest).sort()).toEqual([...first, ...second].sort());
    expect(new Set(receipts.map((x) => x.logIndex)).size).toBe(10);
    expect(await r.runtime.offline.list()).toHaveLength(0);
    expect(await new RejectedStore(r.runtime.db).list()).toHaveLength(0);
    expect(await checkpointSize(log!, root)).toBe(10);
    const served = await (await fetch(`${log!.url}/trusted_root.json`)).json();
    const key = await publicKeyOf(r);
    for (const receipt of receipts) {
      expect(receipt.logUrl).toBe(log!.url);
      const bundle = receipt.bundle as { verificationMaterial: { timestampVerificationData?: unknown } };
      expect(bundle.verificationMaterial.timestampVerificationData).toMatchObject({
        rfc3161Timestamps: [expect.anything()],
      });
      // @sigstore/verify with timestampThreshold 1 and the served trusted root
      expect(verifyBundle({ bundle: receipt.bundle, trustedRoot: served, publicKeyPem: key })).toMatchObject({
        verified: true,
        logIndex: receipt.logIndex,
      });
      // the same bundle without its timestamp does not verify: the timestamp is required
      const bare = JSON.parse(JSON.stringify(receipt.bundle));
      delete bare.verificationMaterial.timestampVerificationData;
      expect(verifyBundle({ bundle: bare, trustedRoot: served, publicKeyPem: key })).toMatchObject({
        verified: false,
      });
    }
  });

  test('two shards: A frozen mid-run (405), the signing config names B; everything lands in B, nothing lost, receipts name their log, all bundles verify against one trusted root', async () => {
    run = await startRun(2, ([a, b], dir) => {
      const signingConfig = join(dir, 'signing_config.json');
      const start = new Date(Date.now() - 3_600_000).toISOString();
      writeFileSync(
        signingConfig,
        JSON.stringify({
          mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
          rekorTlogUrls: [
            { url: a!.url, majorApiVersion: 2, validFor: { start }, operator: 'example' },
            { url: b!.url, majorApiVersion: 2, validFor: { start }, operator: 'example' },
            // a v1 log is valid too, but v2 is the highest version this client speaks
            { url: 'http://127.0.0.1:9', majorApiVersion: 1, validFor: { start }, operator: 'example' },
            // not valid yet
            {
              url: 'http://127.0.0.1:10',
              majorApiVersion: 2,
              validFor: { start: new Date(Date.now() + 86_400_000).toISOString() },
            },
          ],
          tsaUrls: [{ url: `${a!.url}/api/v1/timestamp`, majorApiVersion: 1, validFor: { start } }],
          rekorTlogConfig: { selector: 'ANY' },
          tsaConfig: { selector: 'ANY' },
        }),
      );
      return { signingConfig };
    });
    const r = run;
    const [a, b] = r.logs;
    const root = combinedRoot(r.logs);
    expect(r.runtime.client.logUrl).toBe(a!.url);
    r.startWorker();
    const tenant = randomUUID();
    const before = await submit(r, tenant, 'a', 8);
    // frozen mid-run: some of the first batch are logged in A, the rest may be in flight
    await waitFor(async () => (await r.runtime.receipts.count()) >= 3, 30_000, 'three receipts in A');
    a!.faults.set({ mode: 'frozen' });
    const after = await submit(r, tenant, 'b', 6);
    await waitFor(async () => (await r.runtime.receipts.count()) === 14, 30_000, 'fourteen receipts');

    const receipts = await r.runtime.receipts.list({ limit: null });
    const inA = receipts.filter((x) => x.logUrl === a!.url).map((x) => x.contentDigest);
    const inB = receipts.filter((x) => x.logUrl === b!.url).map((x) => x.contentDigest);
    // nothing lost, nothing twice: every submission has exactly one receipt, in A or in B
    expect([...inA, ...inB].sort()).toEqual([...before, ...after].sort());
    expect(inA.length).toBeGreaterThanOrEqual(3);
    // everything after the freeze is in B; each log holds exactly its receipts' entries
    expect(after.every((d) => (inB as string[]).includes(d))).toBe(true);
    expect(await checkpointSize(a!, root)).toBe(inA.length);
    expect(await checkpointSize(b!, root)).toBe(inB.length);
    for (const x of receipts) expect(x.logId).toBe(x.logUrl === a!.url ? a!.logId : b!.logId);
    expect(await r.runtime.offline.list()).toHaveLength(0);
    expect(await new RejectedStore(r.runtime.db).list()).toHaveLength(0);
    expect(r.runtime.client.logUrl).toBe(b!.url);

    // said in the log and counted in a metric
    expect(r.warnings.some((w) => w.includes(`${a!.url} is frozen (405)`) && w.includes(b!.url))).toBe(true);
    const metric = (await r.runtime.registry.getMetricsAsJSON()).find(
      (m) => m.name === 'attestor_rekor_shard_switches_total',
    );
    expect(metric?.values).toEqual([
      expect.objectContaining({ value: 1, labels: { from: a!.url, to: b!.url, reason: 'frozen' } }),
    ]);

    const key = await publicKeyOf(r);
    for (const receipt of receipts) {
      expect(verifyBundle({ bundle: receipt.bundle, trustedRoot: root, publicKeyPem: key })).toMatchObject({
        verified: true,
        logIndex: receipt.logIndex,
      });
    }
  });

  test('a failing timestamp authority spends no budget: each attempt gives its unit back, the jobs wait offline, and are logged once it answers', async () => {
    // the TSA in front of the log's own: answers 503 while `failing`, else passes the request on
    let failing = true;
    let target = '';
    let tsaHits = 0;
    const tsa = createServer((req, res) => {
      tsaHits++;
      const body: Buffer[] = [];
      req.on('data', (c: Buffer) => body.push(c));
      req.on('end', () => {
        if (failing) {
          res.writeHead(503).end('timestamp authority unavailable');
          return;
        }
        void fetch(target, {
          method: 'POST',
          headers: { 'content-type': String(req.headers['content-type']) },
          body: Buffer.concat(body),
        })
          .then(async (r) => res.writeHead(r.status).end(Buffer.from(await r.arrayBuffer())))
          .catch(() => res.writeHead(502).end());
      });
    });
    await new Promise<void>((resolve) => tsa.listen(0, '127.0.0.1', resolve));
    try {
      run = await startRun(1, ([log]) => {
        target = `${log!.url}/api/v1/timestamp`;
        return {
          serverUrl: log!.url,
          apiVersion: 2,
          timestampAuthority: {
            url: `http://127.0.0.1:${(tsa.address() as AddressInfo).port}/api/v1/timestamp`,
          },
        };
      });
      const r = run;
      const [log] = r.logs;
      const tenant = randomUUID();
      const fresh = await r.runtime.budget.peek(tenant, 'graph');
      r.startWorker();
      const digests = await submit(r, tenant, 'tsa-down', 3);
      // three attempts each, then the offline queue
      await waitFor(
        async () =>
          (await r.runtime.offline.list()).filter((x) => x.reason === 'timestamp_unavailable').length === 3,
        30_000,
        'three offline rows (timestamp_unavailable)',
      );
      // every attempt gave its unit back: the tenant's budget is as it was
      expect((await r.runtime.budget.peek(tenant, 'graph')).remaining).toEqual(fresh.remaining);
      const errors = (await r.runtime.registry.getMetricsAsJSON()).find(
        (m) => m.name === 'attestor_rekor_submission_errors_total',
      );
      expect(errors?.values).toContainEqual(
        expect.objectContaining({ value: 9, labels: expect.objectContaining({ reason: 'timestamp' }) }),
      );
      expect(await checkpointSize(log!, combinedRoot(r.logs))).toBe(0);
      expect(await new RejectedStore(r.runtime.db).list()).toHaveLength(0);

      // while the timestamp authority still fails, the drain asks it once and moves nothing:
      // replayed, the rows would only spend their attempts again
      const tsaRequests = tsaHits;
      expect(await r.drainer().drainOnce()).toMatchObject({
        rekorUp: true,
        moved: { graph: 0, edge: 0 },
        timestampAuthority: { reachable: false, detail: 'HTTP 503' },
      });
      expect(tsaHits).toBe(tsaRequests + 1);
      expect(
        (await r.runtime.offline.list()).filter((x) => x.reason === 'timestamp_unavailable'),
      ).toHaveLength(3);

      failing = false;
      expect(await r.drainer().drainOnce()).toMatchObject({
        rekorUp: true,
        moved: { graph: 3, edge: 0 },
        timestampAuthority: { reachable: true, detail: 'granted' },
      });
      await waitFor(async () => (await r.runtime.receipts.count()) === 3, 30_000, 'three receipts');
      const receipts = await r.runtime.receipts.list({ limit: null });
      expect(receipts.map((x) => x.contentDigest).sort()).toEqual([...digests].sort());
      expect(await checkpointSize(log!, combinedRoot(r.logs))).toBe(3);
      expect(await r.runtime.offline.list()).toHaveLength(0);
    } finally {
      tsa.closeAllConnections();
      tsa.close();
    }
  });
});

async function publicKeyOf(r: V2Run): Promise<string> {
  return (await loadSigner({ keyPath: r.config.signing.keyPath! })).publicKeyPem;
}

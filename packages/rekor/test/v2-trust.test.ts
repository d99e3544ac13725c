import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import {
  buildStatement,
  createRekorClient,
  createShardedClient,
  createSigner,
  parseSigningConfig,
  selectServices,
  signEnvelope,
  verifyBundle,
  type RekorClient,
} from '@rekor-budget/rekor';
import { closedPort, codeOf, graphSubmission } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'rb-rekor-v2-'));
let log: RekorLocalServer;
let stranger: RekorLocalServer;
const clients: RekorClient[] = [];
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const signer = createSigner(pem);
let scans = 0;
const fresh = () => signEnvelope(buildStatement(graphSubmission(`v2-trust-${++scans}`)), signer);

function track<C extends RekorClient>(c: C): C {
  clients.push(c);
  return c;
}

beforeAll(async () => {
  log = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), api: 'v2', faults: true, fsync: false });
  stranger = await startRekorLocal({ port: 0, dataDir: join(dir, 'other'), api: 'v2', fsync: false });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await log.close();
  await stranger.close();
  rmSync(dir, { recursive: true, force: true });
});

const SIGNING_CONFIG = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';
const HOUR = 3_600_000;
const at = (ms: number) => new Date(Date.now() + ms).toISOString();

describe('the v2 probe reads /checkpoint and checks it against the trusted root', () => {
  test('a checkpoint signed by a log of the trusted root: reachable, verified, with its tree size', async () => {
    const c = track(createRekorClient({ serverUrl: log.url, apiVersion: 2, trustedRoot: log.trustedRoot() }));
    const p = await c.probe();
    expect(p).toMatchObject({ reachable: true, treeSize: log.treeSize() });
    expect(p.detail).toMatch(/^tree size \d+, checkpoint verified$/);
  });

  test('a checkpoint no trusted log signed is not reachable (another log answers at that URL)', async () => {
    const c = track(
      createRekorClient({ serverUrl: stranger.url, apiVersion: 2, trustedRoot: log.trustedRoot() }),
    );
    const p = await c.probe();
    expect(p.reachable).toBe(false);
    expect(p.detail).toContain('no signature verifies under a log of the trusted root');
  });

  test('without a trusted root the note is parsed and the detail says it was not verified', async () => {
    const p = await track(createRekorClient({ serverUrl: log.url, apiVersion: 2 })).probe();
    expect(p.reachable).toBe(true);
    expect(p.detail).toContain('not verified');
  });

  test('a v2 log that is down, or that serves no checkpoint, is not reachable', async () => {
    const down = await track(
      createRekorClient({ serverUrl: `http://127.0.0.1:${await closedPort()}`, apiVersion: 2 }),
    ).probe();
    expect(down).toMatchObject({ reachable: false, detail: 'ECONNREFUSED' });
    const v1 = await startRekorLocal({ port: 0, dataDir: join(dir, 'v1'), api: 'v1', fsync: false });
    try {
      const p = await track(createRekorClient({ serverUrl: v1.url, apiVersion: 2 })).probe();
      expect(p).toMatchObject({ reachable: false, detail: 'HTTP 404' });
    } finally {
      await v1.close();
    }
  });
});

describe('client options for v2', () => {
  test('a v2 write timeout under 20 s, or a trusted root without logs, is INVALID_OPTIONS / INVALID_TRUSTED_ROOT', async () => {
    expect(
      await codeOf(() => createRekorClient({ serverUrl: log.url, apiVersion: 2, v2WriteTimeoutMs: 5_000 })),
    ).toBe('INVALID_OPTIONS');
    expect(await codeOf(() => createRekorClient({ serverUrl: log.url, trustedRoot: { tlogs: [] } }))).toBe(
      'INVALID_TRUSTED_ROOT',
    );
  });

  test('a TSA that refuses is a timestamp_failed outcome naming the TSA; nothing is logged', async () => {
    const c = track(
      createRekorClient({
        serverUrl: log.url,
        apiVersion: 2,
        trustedRoot: log.trustedRoot(),
        timestampAuthorityUrl: `${log.url}/api/v1/no-such-tsa`,
      }),
    );
    const before = log.treeSize();
    const outcome = await c.submit(fresh());
    // the log never saw the request: not its rejection (see submit.test.ts for the other statuses)
    expect(outcome).toMatchObject({
      kind: 'timestamp_failed',
      status: 404,
      tsaUrl: `${log.url}/api/v1/no-such-tsa`,
    });
    if (outcome.kind === 'timestamp_failed') expect(outcome.message).toContain('timestamp authority');
    expect(log.treeSize()).toBe(before);
  });

  test('a v2 bundle without a timestamp does not verify: verification requires one', async () => {
    const c = track(createRekorClient({ serverUrl: log.url, apiVersion: 2, trustedRoot: log.trustedRoot() }));
    const outcome = await c.submit(fresh());
    expect(outcome.kind).toBe('created');
    if (outcome.kind !== 'created') return;
    expect(
      verifyBundle({
        bundle: outcome.bundle,
        trustedRoot: log.trustedRoot(),
        publicKeyPem: signer.publicKeyPem,
      }),
    ).toMatchObject({ verified: false, code: 'TIMESTAMP_ERROR' });
  });
});

describe('signing config (v0.2): service selection as CLIENTS.md describes', () => {
  const service = (url: string, majorApiVersion: number, start: string, end?: string) => ({
    url,
    majorApiVersion,
    validFor: end ? { start, end } : { start },
  });

  test('valid now and a supported version; the highest version first, then the order of the list', () => {
    const config = parseSigningConfig({
      mediaType: SIGNING_CONFIG,
      rekorTlogUrls: [
        service('https://future.example', 2, at(HOUR)),
        service('https://ended.example', 2, at(-2 * HOUR), at(-HOUR)),
        service('https://v3.example', 3, at(-HOUR)),
        service('https://rekor-v1.example', 1, at(-HOUR)),
        service('https://log-b.example', 2, at(-HOUR)),
        service('https://log-a.example', 2, at(-2 * HOUR), at(HOUR)),
      ],
      tsaUrls: [],
    });
    expect(selectServices(config.rekorTlogUrls, [1, 2], new Date()).map((s) => s.url)).toEqual([
      'https://log-b.example',
      'https://log-a.example',
      'https://rekor-v1.example',
    ]);
  });

  test('what is not a v0.2 signing config is INVALID_SIGNING_CONFIG, naming the field', async () => {
    expect(await codeOf(() => parseSigningConfig({ mediaType: 'v0.1' }))).toBe('INVALID_SIGNING_CONFIG');
    expect(
      await codeOf(() =>
        parseSigningConfig({ mediaType: SIGNING_CONFIG, rekorTlogUrls: [service('ftp://x', 2, at(0))] }),
      ),
    ).toBe('INVALID_SIGNING_CONFIG');
    expect(
      await codeOf(() =>
        parseSigningConfig({ mediaType: SIGNING_CONFIG, rekorTlogUrls: [service('https://x', 2, 'soon')] }),
      ),
    ).toBe('INVALID_SIGNING_CONFIG');
    const none = parseSigningConfig({
      mediaType: SIGNING_CONFIG,
      rekorTlogUrls: [service('https://later.example', 2, at(HOUR))],
    });
    expect(await codeOf(() => createShardedClient({ signingConfig: none }))).toBe('INVALID_SIGNING_CONFIG');
  });

  test('a frozen shard (405): the submission goes at once to the next valid shard; the move is told once', async () => {
    const changes: string[] = [];
    const c = track(
      createShardedClient({
        signingConfig: parseSigningConfig({
          mediaType: SIGNING_CONFIG,
          rekorTlogUrls: [service(log.url, 2, at(-HOUR)), service(stranger.url, 2, at(-HOUR))],
        }),
        trustedRoot: {
          ...log.trustedRoot(),
          tlogs: [...log.trustedRoot().tlogs, ...stranger.trustedRoot().tlogs],
        },
        onShardChange: ({ from, to, reason }) => changes.push(`${from}>${to}:${reason}`),
      }),
    );
    log.faults.set({ mode: 'frozen' });
    try {
      const first = await c.submit(fresh());
      // the second shard is not frozen: the submission lands there
      expect(first).toMatchObject({ kind: 'created', logUrl: stranger.url });
      expect(changes).toEqual([`${log.url}>${stranger.url}:frozen`]);
      expect(c.logUrl).toBe(stranger.url);
    } finally {
      log.faults.clear();
    }
  });

  test('no valid shard left: the frozen outcome says to publish the next shard', async () => {
    const c = track(
      createShardedClient({
        signingConfig: parseSigningConfig({
          mediaType: SIGNING_CONFIG,
          rekorTlogUrls: [service(log.url, 2, at(-HOUR))],
        }),
        trustedRoot: log.trustedRoot(),
      }),
    );
    log.faults.set({ mode: 'frozen' });
    try {
      const outcome = await c.submit(fresh());
      expect(outcome).toMatchObject({ kind: 'frozen', status: 405, logUrl: log.url });
      if (outcome.kind === 'frozen') expect(outcome.message).toContain('signing config');
    } finally {
      log.faults.clear();
    }
  });
});

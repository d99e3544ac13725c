import { Redis } from 'ioredis';
import type { Logger } from '@rekor-budget/core';
import { createRekorProducer } from '@rekor-budget/producer';
import {
  createTestDatabase,
  startPrivateSentinel,
  uniquePrefix,
  type PrivateSentinel,
  type TestDatabase,
} from '@rekor-budget/testing';
import { graphInput, tenant, testConfig } from './fixtures';

jest.setTimeout(60_000);

let sentinel: PrivateSentinel;
let t: TestDatabase;
let replica: Redis;
let master: Redis;

/** Warnings the producer logged, as `message` lines. */
function recordingLogger(warnings: string[]): Logger {
  const noop = () => undefined;
  const logger: Logger = {
    error: noop,
    info: noop,
    debug: noop,
    warn: (...args: unknown[]) => void warnings.push(String(args.find((a) => typeof a === 'string'))),
    child: () => logger,
  };
  return logger;
}

beforeAll(async () => {
  sentinel = await startPrivateSentinel();
  t = await createTestDatabase();
  master = new Redis({ host: '127.0.0.1', port: await sentinel.masterPort() });
  // the replica, as the master sees it
  const info = await master.info('replication');
  const port = Number(/slave0:.*port=(\d+)/.exec(info)?.[1]);
  replica = new Redis({ host: '127.0.0.1', port });
});

afterAll(async () => {
  replica?.disconnect();
  master?.disconnect();
  await t?.drop();
  await sentinel?.destroy();
});

test('with Sentinel, a submission is answered queued once the replica holds it; a replica that does not answer is waited for briefly and reported', async () => {
  const warnings: string[] = [];
  const prefix = uniquePrefix('sentinel-prod');
  const config = testConfig({
    redis: { sentinel: { name: sentinel.name, nodes: sentinel.sentinels }, keyPrefix: prefix },
  });
  const producer = createRekorProducer({ config, db: t.db, logger: recordingLogger(warnings) });
  try {
    const tn = tenant();
    const first = await producer.submitGraphAttestation(graphInput(tn, 'replicated'));
    expect(first.status).toBe('queued');
    // the replica had it before the answer came: its replication offset covers the master's
    const offset = (s: string, key: string) => Number(new RegExp(`${key}:(\\d+)`).exec(s)?.[1]);
    const masterOffset = offset(await master.info('replication'), 'master_repl_offset');
    await expect(replica.exists(`{${prefix}}:rekor-graph:${first.jobId}`)).resolves.toBe(1);
    expect(offset(await replica.info('replication'), 'slave_repl_offset')).toBeGreaterThanOrEqual(
      masterOffset,
    );
    expect(warnings).toEqual([]);

    // the replica leaves: the next answer waits for it no longer than the bound, and says so
    await replica.replicaof('NO', 'ONE');
    const before = Date.now();
    const second = await producer.submitGraphAttestation(graphInput(tn, 'unreplicated'));
    const waited = Date.now() - before;
    expect(second.status).toBe('queued');
    expect(waited).toBeGreaterThanOrEqual(450);
    expect(warnings).toEqual([expect.stringContaining('no replica acknowledged')]);
  } finally {
    await producer.close();
    await replica.replicaof('127.0.0.1', await sentinel.masterPort()).catch(() => undefined);
  }
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { contentDigest, createRedisKeys, validateGraphInput } from '@rekor-budget/core';
import { createTierQueues, RejectedStore, type SubmissionJobData } from '@rekor-budget/queue';
import { createTestServices, graphInput, redisUrl, type TestServices } from '@rekor-budget/testing';
import { runCli } from './helpers';

jest.setTimeout(60_000);

const TENANT = '6f1d3c2a-0b4e-4f5a-9c8d-7e6f5a4b3c2d';
let s: TestServices;
let dir: string;
let configFile: string;

beforeAll(async () => {
  s = await createTestServices('rej');
  dir = mkdtempSync(join(tmpdir(), 'rb-cli-rejected-'));
  configFile = join(dir, 'attestor.yaml');
  writeFileSync(
    configFile,
    stringify({
      attestor: {
        rekor: {
          serverUrl: 'http://127.0.0.1:9',
          redis: { url: redisUrl(), keyPrefix: s.prefix },
          database: { url: s.t.url },
        },
      },
    }),
  );
});
afterAll(async () => {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  runCli([...args, '--config', configFile], { env: { REDIS_URL: '', DATABASE_URL: '', REKOR_URL: '' } });

function submission(scanId: string): SubmissionJobData {
  const input = validateGraphInput(graphInput(TENANT, scanId));
  return { version: 1, tier: 'graph', contentDigest: contentDigest('graph', input), input, enqueuedAt: 1 };
}

test('list shows refused submissions with the reason; retry puts one back in its queue; discard drops one', async () => {
  const store = new RejectedStore(s.t.db);
  const a = submission('refused-a');
  const b = submission('refused-b');
  await store.add(a, {
    reason: 'rejected',
    httpStatus: 400,
    message: 'bad signature',
    logUrl: 'http://rekor',
  });
  await store.add(b, { reason: 'frozen', httpStatus: 405, message: 'shard frozen', logUrl: 'http://rekor' });

  const listed = await cli('rejected', 'list', '--json');
  expect(listed.code).toBe(0);
  const rows = JSON.parse(listed.stdout) as { id: string; contentDigest: string; reason: string }[];
  expect(rows.map((r) => [r.contentDigest, r.reason]).sort()).toEqual(
    [
      [a.contentDigest, 'rejected'],
      [b.contentDigest, 'frozen'],
    ].sort(),
  );
  const idOf = (digest: string) => rows.find((r) => r.contentDigest === digest)!.id;

  const retried = await cli('rejected', 'retry', idOf(b.contentDigest));
  expect(retried).toMatchObject({ code: 0, stdout: expect.stringContaining('put 1 submission(s) back') });
  const queues = createTierQueues({ redis: s.redis, keys: createRedisKeys(s.prefix) });
  const job = await queues.get('graph').getJob(idOf(b.contentDigest));
  expect(job?.data.contentDigest).toBe(b.contentDigest);
  await queues.close();

  const discarded = await cli('rejected', 'discard', idOf(a.contentDigest));
  expect(discarded.code).toBe(0);
  expect(await store.list()).toEqual([]);

  const unknown = await cli('rejected', 'discard', idOf(a.contentDigest));
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain('no rejected submission');
  const bad = await cli('rejected', 'retry', 'not-an-id');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('[INVALID_INPUT]');
  const none = await cli('rejected', 'retry');
  expect(none.code).toBe(2);
});

// The decision table of `submit()` outcomes, each condition produced over real
// HTTP by a scripted log (or a closed port) and read by the real transport.
// What rekor-local's faults produce is covered in submit.test.ts too.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import {
  buildStatement,
  createRekorClient,
  createSigner,
  signEnvelope,
  type RekorClientOptions,
  type SubmitOutcome,
} from '@rekor-budget/rekor';
import { answer, closedPort, graphSubmission, scriptedLog } from './fixtures';

const signed = signEnvelope(
  buildStatement(graphSubmission()),
  createSigner(
    generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  ),
);

type Script = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** Submits once to a log answering with `script`; the outcome and the requests the log received. */
async function submitTo(
  script: Script,
  options: Partial<RekorClientOptions> = {},
): Promise<{ outcome: SubmitOutcome; requests: string[]; logUrl: string }> {
  const log = await scriptedLog(script);
  const client = createRekorClient({ serverUrl: log.url, requestTimeoutMs: 2_000, ...options });
  try {
    return { outcome: await client.submit(signed), requests: [...log.requests], logUrl: log.url };
  } finally {
    client.close();
    await log.close();
  }
}

const V1 = 'POST /api/v1/log/entries';
const V2 = 'POST /api/v2/log/entries';

describe('transport failures', () => {
  test('connection refused on a closed port is unreachable (ECONNREFUSED)', async () => {
    const client = createRekorClient({ serverUrl: `http://127.0.0.1:${await closedPort()}` });
    try {
      expect(await client.submit(signed)).toMatchObject({ kind: 'unreachable', code: 'ECONNREFUSED' });
    } finally {
      client.close();
    }
  });

  test('a connection reset by the log is retryable (ECONNRESET)', async () => {
    const { outcome, requests } = await submitTo((req) => req.socket.destroy());
    expect(outcome).toMatchObject({ kind: 'retryable', code: 'ECONNRESET' });
    expect(requests).toEqual([V1]);
  });

  test('a log that never answers is retryable (ETIMEDOUT) after requestTimeoutMs', async () => {
    const { outcome } = await submitTo(() => undefined, { requestTimeoutMs: 200 });
    expect(outcome).toMatchObject({ kind: 'retryable', code: 'ETIMEDOUT' });
  });

  test('an answer cut off after its headers is retryable', async () => {
    const { outcome } = await submitTo((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"partial":', () => res.socket?.destroy());
    });
    expect(outcome).toMatchObject({ kind: 'retryable', code: 'ECONNRESET' });
  });
});

describe('HTTP answers', () => {
  const now = Date.parse('2025-12-20T10:00:00Z');

  test.each([
    ['5', 5_000, {}],
    ['Sat, 20 Dec 2025 10:01:00 GMT', 60_000, { now: () => now }],
  ])('429 with Retry-After %j is rate_limited for %d ms', async (retryAfter, ms, options) => {
    const { outcome } = await submitTo(
      (_req, res) => answer(res, 429, { code: 429, message: 'slow down' }, { 'retry-after': retryAfter }),
      options,
    );
    expect(outcome).toEqual({
      kind: 'rate_limited',
      logUrl: expect.any(String),
      status: 429,
      retryAfterMs: ms,
      message: 'slow down',
    });
  });

  test('429 without a usable Retry-After has no retryAfterMs', async () => {
    const { outcome } = await submitTo((_req, res) =>
      answer(res, 429, undefined, { 'retry-after': 'later' }),
    );
    expect(outcome.kind).toBe('rate_limited');
    expect(outcome).not.toHaveProperty('retryAfterMs');
  });

  test.each([
    [500, 1],
    [502, 2],
    [503, 1],
    [408, 1],
  ] as const)('%d on v%d is retryable', async (status, apiVersion) => {
    const { outcome } = await submitTo((_req, res) => answer(res, status), { apiVersion });
    expect(outcome).toMatchObject({ kind: 'retryable', status });
  });

  test.each([
    [400, 1],
    [413, 1],
    [422, 1],
    [405, 1],
    [400, 2],
  ] as const)('%d on v%d is rejected with the log’s reason', async (status, apiVersion) => {
    const { outcome, requests } = await submitTo(
      (_req, res) => answer(res, status, { code: status, message: 'the log says no' }),
      { apiVersion },
    );
    expect(outcome).toMatchObject({ kind: 'rejected', status, message: 'the log says no' });
    expect(requests).toHaveLength(1);
  });

  test('405 from a v2 log is frozen, the message says where to point serverUrl', async () => {
    const { outcome } = await submitTo((_req, res) => answer(res, 405), { apiVersion: 2 });
    expect(outcome).toMatchObject({ kind: 'frozen', status: 405 });
    if (outcome.kind === 'frozen') expect(outcome.message).toContain('serverUrl');
  });

  test.each([404, 501])(
    '%d from a log without the v2 API is rejected, naming apiVersion: 1',
    async (status) => {
      const { outcome, requests } = await submitTo((_req, res) => answer(res, status), { apiVersion: 2 });
      expect(outcome).toMatchObject({ kind: 'rejected', status });
      if (outcome.kind === 'rejected') expect(outcome.message).toContain('apiVersion: 1');
      expect(requests).toEqual([V2]);
    },
  );

  test('409 without a Location is rejected', async () => {
    const { outcome } = await submitTo((_req, res) => answer(res, 409, { code: 409, message: 'exists' }));
    expect(outcome).toMatchObject({ kind: 'rejected', status: 409 });
  });
});

describe('a malformed 2xx is invalid_response, after one request', () => {
  const notJson = Buffer.from('not json').toString('base64');
  test.each<[string, 1 | 2, number, unknown]>([
    ['an HTML page', 1, 201, '<html>gateway</html>'],
    ['an empty body', 1, 201, undefined],
    ['no entry', 1, 201, {}],
    ['two entries', 1, 201, { a: {}, b: {} }],
    ['an entry without its fields', 1, 201, { abc: { body: 'x' } }],
    [
      'an entry whose logID is not hex',
      1,
      201,
      { abc: { body: notJson, logIndex: 0, integratedTime: 1, logID: 'zz' } },
    ],
    [
      'an entry whose body is not base64 JSON',
      1,
      201,
      { abc: { body: notJson, logIndex: 0, integratedTime: 1, logID: 'ab' } },
    ],
    ['v2: an HTML page', 2, 201, '<html>gateway</html>'],
    ['v2: no logId nor kindVersion', 2, 200, { logIndex: '3' }],
    ['v2: not an object', 2, 201, [1, 2]],
  ])('%s', async (_what, apiVersion, status, body) => {
    const { outcome, requests, logUrl } = await submitTo((_req, res) => answer(res, status, body), {
      apiVersion,
    });
    expect(outcome).toEqual({ kind: 'invalid_response', logUrl, status, message: expect.any(String) });
    expect(requests).toEqual([apiVersion === 1 ? V1 : V2]);
  });

  test('the existing entry fetched after a 409 is malformed', async () => {
    const { outcome, requests } = await submitTo((_req, res, n) =>
      n === 1
        ? answer(res, 409, { code: 409, message: 'exists' }, { location: '/api/v1/log/entries/abc' })
        : answer(res, 200, 'oops'),
    );
    expect(outcome).toMatchObject({ kind: 'invalid_response', status: 200 });
    expect(requests).toEqual([V1, 'GET /api/v1/log/entries/abc']);
  });
});

// The decision table of `submit()` outcomes, for the cases rekor-local cannot
// produce (a frozen v2 shard, HTTP dates, fetch-style errors). Everything that
// rekor-local can produce is covered over HTTP in submit.test.ts.
import { classifyFailure } from '../src/classify';
import { HTTPError } from '../src/external/http';

const URL = 'http://rekor.example';
const now = Date.parse('2025-12-20T10:00:00Z');
const http = (status: number, headers: Record<string, string> = {}) =>
  new HTTPError(status, headers, 'reason');
const coded = (code: string, name = 'Error') => Object.assign(new Error('x'), { code, name });

describe('classifyFailure', () => {
  test.each([
    [http(405), 2, { kind: 'frozen', status: 405 }],
    [http(405), 1, { kind: 'rejected', status: 405 }],
    [http(404), 2, { kind: 'rejected', status: 404 }],
    [http(400), 1, { kind: 'rejected', status: 400, message: 'reason' }],
    [http(413), 1, { kind: 'rejected', status: 413 }],
    [http(422), 1, { kind: 'rejected', status: 422 }],
    [http(408), 1, { kind: 'retryable', status: 408 }],
    [http(500), 1, { kind: 'retryable', status: 500 }],
    [http(502), 2, { kind: 'retryable', status: 502 }],
    [
      http(429, { 'retry-after': 'Sat, 20 Dec 2025 10:01:00 GMT' }),
      1,
      { kind: 'rate_limited', retryAfterMs: 60_000 },
    ],
    [http(429, { 'retry-after': '5' }), 2, { kind: 'rate_limited', retryAfterMs: 5_000 }],
  ] as const)('%s on v%d is %j', (err, version, expected) => {
    expect(classifyFailure(err, URL, version, now)).toMatchObject({ logUrl: URL, ...expected });
  });

  test('a 429 without a usable Retry-After has no retryAfterMs', () => {
    const o = classifyFailure(http(429, { 'retry-after': 'later' }), URL, 1, now);
    expect(o.kind).toBe('rate_limited');
    expect(o).not.toHaveProperty('retryAfterMs');
  });

  test.each([
    [coded('ECONNREFUSED'), 'unreachable', 'ECONNREFUSED'],
    [new TypeError('fetch failed', { cause: coded('ENOTFOUND') }), 'unreachable', 'ENOTFOUND'],
    [new TypeError('fetch failed', { cause: coded('EAI_AGAIN') }), 'unreachable', 'EAI_AGAIN'],
    [new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')]), 'unreachable', 'ECONNREFUSED'],
    [new TypeError('fetch failed', { cause: coded('UND_ERR_SOCKET') }), 'retryable', 'UND_ERR_SOCKET'],
    [
      new TypeError('fetch failed', { cause: coded('UND_ERR_HEADERS_TIMEOUT') }),
      'retryable',
      'UND_ERR_HEADERS_TIMEOUT',
    ],
    [coded('ECONNRESET'), 'retryable', 'ECONNRESET'],
    [Object.assign(new Error('aborted'), { name: 'AbortError' }), 'retryable', 'AbortError'],
    [new DOMException('timed out', 'TimeoutError'), 'retryable', 'TimeoutError'],
    [new Error('no code at all'), 'retryable', 'UNKNOWN'],
  ])('%s is %s (%s)', (err, kind, code) => {
    expect(classifyFailure(err, URL, 1, now)).toMatchObject({ kind, code });
  });
});

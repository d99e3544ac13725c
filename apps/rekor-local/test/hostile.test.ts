import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { dsseEntry, hashedRekordEntry, intotoEntry, newKey } from './helpers/proposed';
import { call, post, removeDir, tempDataDir } from './helpers/server';

const dataDir = tempDataDir();
let server: RekorLocalServer;
const key = newKey();
const other = newKey();
const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
const dsse = dsseEntry(key, payload);
const intoto = intotoEntry(key, payload);
const hashed = hashedRekordEntry(key, payload);
const envelope = JSON.parse(dsse.spec.proposedContent.envelope);

beforeAll(async () => {
  server = await startRekorLocal({ port: 0, dataDir, bodyLimitBytes: 16 * 1024 });
});
afterAll(async () => {
  await server.close();
  removeDir(dataDir);
});

const withEnvelope = (e: unknown) => ({
  ...dsse,
  spec: { proposedContent: { ...dsse.spec.proposedContent, envelope: JSON.stringify(e) } },
});

const cases: [string, string, string | unknown, number][] = [
  ['malformed JSON', 'POST /api/v1/log/entries', '{"kind": "dsse",', 400],
  ['a JSON array', 'POST /api/v1/log/entries', [], 400],
  ['JSON null', 'POST /api/v1/log/entries', 'null', 400],
  ['an empty body', 'POST /api/v1/log/entries', '', 400],
  ['an unknown kind', 'POST /api/v1/log/entries', { ...dsse, kind: 'rpm' }, 400],
  ['an unknown version', 'POST /api/v1/log/entries', { ...dsse, apiVersion: '9.9.9' }, 400],
  ['a prototype key as kind', 'POST /api/v1/log/entries', { ...dsse, kind: '__proto__' }, 400],
  ['a prototype key as version', 'POST /api/v1/log/entries', { ...dsse, apiVersion: 'constructor' }, 400],
  ['a missing spec', 'POST /api/v1/log/entries', { kind: 'dsse', apiVersion: '0.0.1' }, 400],
  ['a numeric kind', 'POST /api/v1/log/entries', { ...dsse, kind: 7 }, 400],
  [
    'dsse: envelope not a string',
    'POST /api/v1/log/entries',
    { ...dsse, spec: { proposedContent: { envelope: {}, verifiers: [key.publicB64] } } },
    400,
  ],
  [
    'dsse: envelope not JSON',
    'POST /api/v1/log/entries',
    { ...dsse, spec: { proposedContent: { envelope: 'nope', verifiers: [key.publicB64] } } },
    400,
  ],
  [
    'dsse: no verifiers',
    'POST /api/v1/log/entries',
    { ...dsse, spec: { proposedContent: { ...dsse.spec.proposedContent, verifiers: [] } } },
    400,
  ],
  [
    'dsse: verifier not a key',
    'POST /api/v1/log/entries',
    { ...dsse, spec: { proposedContent: { ...dsse.spec.proposedContent, verifiers: ['aGVsbG8='] } } },
    400,
  ],
  [
    'dsse: verifier a broken PEM',
    'POST /api/v1/log/entries',
    {
      ...dsse,
      spec: {
        proposedContent: {
          ...dsse.spec.proposedContent,
          verifiers: [
            Buffer.from('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n').toString('base64'),
          ],
        },
      },
    },
    400,
  ],
  [
    'dsse: wrong verifier (bad signature)',
    'POST /api/v1/log/entries',
    { ...dsse, spec: { proposedContent: { ...dsse.spec.proposedContent, verifiers: [other.publicB64] } } },
    400,
  ],
  [
    'dsse: tampered payload',
    'POST /api/v1/log/entries',
    withEnvelope({ ...envelope, payload: Buffer.from('{}').toString('base64') }),
    400,
  ],
  ['dsse: no signatures', 'POST /api/v1/log/entries', withEnvelope({ ...envelope, signatures: [] }), 400],
  [
    'dsse: signature not base64',
    'POST /api/v1/log/entries',
    withEnvelope({ ...envelope, signatures: [{ sig: '!!' }] }),
    400,
  ],
  [
    'dsse: payload not base64',
    'POST /api/v1/log/entries',
    withEnvelope({ ...envelope, payload: 'not base64 at all' }),
    400,
  ],
  [
    'dsse: server-side fields sent',
    'POST /api/v1/log/entries',
    { ...dsse, spec: { ...dsse.spec, payloadHash: { algorithm: 'sha256', value: '00' } } },
    400,
  ],
  [
    'intoto: missing hash',
    'POST /api/v1/log/entries',
    { ...intoto, spec: { content: { ...intoto.spec.content, hash: undefined } } },
    400,
  ],
  [
    'intoto: bad signature',
    'POST /api/v1/log/entries',
    {
      ...intoto,
      spec: {
        content: {
          ...intoto.spec.content,
          envelope: {
            ...intoto.spec.content.envelope,
            signatures: [{ ...intoto.spec.content.envelope.signatures[0], publicKey: other.publicB64 }],
          },
        },
      },
    },
    400,
  ],
  [
    'intoto: signatures not an array',
    'POST /api/v1/log/entries',
    {
      ...intoto,
      spec: {
        content: { ...intoto.spec.content, envelope: { ...intoto.spec.content.envelope, signatures: 'x' } },
      },
    },
    400,
  ],
  [
    'hashedrekord: bad signature',
    'POST /api/v1/log/entries',
    {
      ...hashed,
      spec: {
        ...hashed.spec,
        signature: { ...hashed.spec.signature, publicKey: { content: other.publicB64 } },
      },
    },
    400,
  ],
  [
    'hashedrekord: short digest',
    'POST /api/v1/log/entries',
    { ...hashed, spec: { ...hashed.spec, data: { hash: { algorithm: 'sha256', value: 'abcd' } } } },
    400,
  ],
  [
    'hashedrekord: unknown algorithm',
    'POST /api/v1/log/entries',
    { ...hashed, spec: { ...hashed.spec, data: { hash: { algorithm: 'md5', value: 'ab' } } } },
    400,
  ],
  [
    'hashedrekord: garbage DER signature',
    'POST /api/v1/log/entries',
    {
      ...hashed,
      spec: {
        ...hashed.spec,
        signature: { ...hashed.spec.signature, content: Buffer.alloc(70, 0x30).toString('base64') },
      },
    },
    400,
  ],
  ['a body over the limit', 'POST /api/v1/log/entries', { ...dsse, pad: 'x'.repeat(20 * 1024) }, 413],
  ['retrieve: not an object', 'POST /api/v1/log/entries/retrieve', '"x"', 400],
  ['retrieve: nothing asked', 'POST /api/v1/log/entries/retrieve', {}, 400],
  ['retrieve: mistyped indexes', 'POST /api/v1/log/entries/retrieve', { logIndexes: ['a'] }, 400],
  ['retrieve: negative index', 'POST /api/v1/log/entries/retrieve', { logIndexes: [-1] }, 400],
  ['get: logIndex missing', 'GET /api/v1/log/entries', undefined, 400],
  ['get: logIndex not a number', 'GET /api/v1/log/entries?logIndex=abc', undefined, 400],
  ['get: logIndex beyond the log', 'GET /api/v1/log/entries?logIndex=999999', undefined, 404],
  ['get: uuid not hex', 'GET /api/v1/log/entries/zzzz', undefined, 400],
  ['get: unknown uuid', `GET /api/v1/log/entries/${'a'.repeat(64)}`, undefined, 404],
  ['proof: lastSize beyond the log', 'GET /api/v1/log/proof?firstSize=1&lastSize=99999', undefined, 400],
  ['proof: firstSize 0', 'GET /api/v1/log/proof?firstSize=0', undefined, 400],
  ['proof: not numbers', 'GET /api/v1/log/proof?firstSize=x&lastSize=y', undefined, 400],
  ['an unknown path', 'GET /api/v1/nope', undefined, 404],
  ['a wrong method', 'DELETE /api/v1/log', undefined, 405],
  ['admin when faults are off', 'POST /admin/faults', { mode: '503' }, 404],
];

describe('hostile input', () => {
  test.each(cases)('%s is refused with %s → %#', async (_what, route, body, status) => {
    const [method, path] = route.split(' ') as [string, string];
    const res =
      body === undefined
        ? await call(`${server.url}${path}`, { method })
        : await post(`${server.url}${path}`, typeof body === 'string' ? body : body);
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ code: status, message: expect.any(String) });
    expect(res.body.message.length).toBeGreaterThan(0);
  });

  test('the server is alive afterwards and logged nothing bad', async () => {
    expect((await call(`${server.url}/api/v1/log`)).body.treeSize).toBe(0);
    expect((await post(`${server.url}/api/v1/log/entries`, dsse)).status).toBe(201);
    expect((await post(`${server.url}/api/v1/log/entries`, intoto)).status).toBe(201);
    expect((await post(`${server.url}/api/v1/log/entries`, hashed)).status).toBe(201);
  });

  test('a body far over the limit is drained and answered 413; the server stays up', async () => {
    const res = await fetch(`${server.url}/api/v1/log/entries`, {
      method: 'POST',
      body: Buffer.alloc(200 * 1024, 0x7b),
    });
    expect(res.status).toBe(413);
    await res.text();
    expect((await call(`${server.url}/api/v1/log`)).status).toBe(200);
  });
});

import { generateKeyPairSync } from 'node:crypto';
import { parseConfigText } from '@rekor-budget/core';
import {
  buildStatement,
  clientOptionsFromConfig,
  createRekorClient,
  createSigner,
  signEnvelope,
} from '@rekor-budget/rekor';
import { closedPort, codeOf, graphSubmission } from './fixtures';

const signer = createSigner(
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
);
const signed = signEnvelope(buildStatement(graphSubmission()), signer);

describe('a log that cannot be reached', () => {
  test('connection refused is unreachable with ECONNREFUSED', async () => {
    const client = createRekorClient({
      serverUrl: `http://127.0.0.1:${await closedPort()}`,
      requestTimeoutMs: 2_000,
    });
    try {
      const outcome = await client.submit(signed);
      expect(outcome).toMatchObject({ kind: 'unreachable', code: 'ECONNREFUSED' });
    } finally {
      client.close();
    }
  });

  test('a name that does not resolve is unreachable (ENOTFOUND or EAI_AGAIN)', async () => {
    const client = createRekorClient({
      serverUrl: 'http://rekor.does-not-exist.invalid',
      requestTimeoutMs: 5_000,
    });
    try {
      const outcome = await client.submit(signed);
      expect(outcome.kind).toBe('unreachable');
      expect(['ENOTFOUND', 'EAI_AGAIN']).toContain((outcome as { code: string }).code);
    } finally {
      client.close();
    }
  });

  test('client options come from the configuration', () => {
    const config = parseConfigText(
      'attestor:\n  rekor:\n    serverUrl: http://127.0.0.1:3001\n    apiVersion: 2\n    requestTimeout: "00:00:05"\n',
      { source: 'test' },
    );
    expect(clientOptionsFromConfig(config)).toEqual({
      serverUrl: 'http://127.0.0.1:3001',
      apiVersion: 2,
      entryKind: 'dsse',
      requestTimeoutMs: 5_000,
      v2WriteTimeoutMs: 30_000,
    });
  });

  test('bad options are refused with INVALID_OPTIONS', async () => {
    expect(await codeOf(() => createRekorClient({ serverUrl: 'ftp://x' }))).toBe('INVALID_OPTIONS');
    expect(await codeOf(() => createRekorClient({ serverUrl: 'http://x', requestTimeoutMs: 0 }))).toBe(
      'INVALID_OPTIONS',
    );
  });

  test('an envelope that is not one (e.g. corrupted job data) is INVALID_ENVELOPE', async () => {
    const client = createRekorClient({ serverUrl: `http://127.0.0.1:${await closedPort()}` });
    try {
      expect(await codeOf(() => client.submit({ ...signed, envelope: { payload: 1 } } as never))).toBe(
        'INVALID_ENVELOPE',
      );
    } finally {
      client.close();
    }
  });
});

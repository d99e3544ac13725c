import {
  buildStatement,
  createSigner,
  DEFAULT_MAX_PAYLOAD_BYTES,
  PREDICATE_TYPES,
  RekorError,
  signEnvelope,
  statementPayload,
} from '@rekor-budget/rekor';
import { generateKeyPairSync, verify } from 'node:crypto';
import { dsse } from '@sigstore/core';
import { codeOf, edgeSubmission, graphSubmission } from './fixtures';

const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const signer = createSigner(pem);

describe('statements', () => {
  test('a graph statement is an in-toto v1 statement of the scanned artifact', () => {
    const s = buildStatement(graphSubmission());
    expect(s._type).toBe('https://in-toto.io/Statement/v1');
    expect(s.predicateType).toBe(PREDICATE_TYPES.graph);
    expect(s.subject).toEqual([{ name: 'registry.example/app', digest: { sha256: 'a'.repeat(64) } }]);
    expect(s.predicate).toMatchObject({
      graphDigest: `sha256:${'b'.repeat(64)}`,
      scan: { id: 'scan-1', startedAt: '2025-12-20T09:58:00.000Z', finishedAt: '2025-12-20T10:00:00.000Z' },
      scanner: { name: 'stella-scanner', version: '1.4.2' },
      metadata: { branch: 'main', commit: 'c0ffee' },
    });
  });

  test('an edge bundle carries the finding, its triggers and the edges', () => {
    const s = buildStatement(edgeSubmission(3));
    expect(s.predicateType).toBe(PREDICATE_TYPES.edge);
    if (s.predicateType !== PREDICATE_TYPES.edge) throw new Error('not an edge bundle');
    expect(s.predicate.finding).toEqual({ cveId: 'CVE-2024-3094', cvss: 9.8, reachable: true });
    expect(s.predicate.triggers).toEqual(['cvss', 'manual']);
    expect(s.predicate.edges).toHaveLength(3);
  });

  test('the same submission yields byte-identical payloads', () => {
    const a = statementPayload(buildStatement(graphSubmission()));
    const b = statementPayload(buildStatement(JSON.parse(JSON.stringify(graphSubmission()))));
    expect(a.equals(b)).toBe(true);
    expect(statementPayload(buildStatement(graphSubmission('other'))).equals(a)).toBe(false);
  });

  test('typical sizes: graph 2-5 KB is well under the limit, edge bundles 10-50 KB', () => {
    expect(statementPayload(buildStatement(graphSubmission())).length).toBeLessThan(5_000);
    const edge = statementPayload(buildStatement(edgeSubmission(200))).length;
    expect(edge).toBeGreaterThan(10_000);
    expect(edge).toBeLessThan(DEFAULT_MAX_PAYLOAD_BYTES);
  });
});

describe('signEnvelope', () => {
  test('signs once into plain JSON that verifies over the DSSE PAE', () => {
    const signed = signEnvelope(buildStatement(graphSubmission()), signer);
    const copy = JSON.parse(JSON.stringify(signed));
    expect(copy).toEqual(signed);
    const payload = Buffer.from(signed.envelope.payload, 'base64');
    const pae = dsse.preAuthEncoding(signed.envelope.payloadType, payload);
    const sig = Buffer.from(signed.envelope.signatures[0].sig, 'base64');
    expect(verify('sha256', pae, signed.publicKeyPem, sig)).toBe(true);
    expect(signed.envelope.signatures[0].keyid).toBe(signer.keyHint);
  });

  test('a payload over maxPayloadBytes is PAYLOAD_TOO_LARGE before anything is signed', async () => {
    let signed = 0;
    const counting = { ...signer, sign: (d: Buffer) => (signed++, signer.sign(d)) };
    const big = buildStatement(edgeSubmission(2_000));
    expect(await codeOf(() => signEnvelope(big, counting))).toBe('PAYLOAD_TOO_LARGE');
    expect(
      await codeOf(() => signEnvelope(buildStatement(graphSubmission()), counting, { maxPayloadBytes: 100 })),
    ).toBe('PAYLOAD_TOO_LARGE');
    expect(signed).toBe(0);
    expect(() => signEnvelope(big, counting)).toThrow(RekorError);
  });
});

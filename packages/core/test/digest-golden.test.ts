import {
  canonicalJson,
  contentDigest,
  InputError,
  validateEdgeInput,
  validateGraphInput,
} from '@rekor-budget/core';

/**
 * Content digests are the identity of stored submissions (job ids, envelopes,
 * receipts): they must never change for a valid input. These values were
 * produced by the first release; a failure here means existing data would no
 * longer be found, so fix the code, never the numbers.
 */

const graph = {
  priority: 7,
  metadata: {
    zeta: 'last',
    Alpha: 'upper',
    alpha: 'lower',
    'ü-key': 'ünïcödé "quoted"\n',
    '10': 'ten',
    '9': 'nine',
  },
  scanFinishedAt: '2025-12-20T11:30:00+01:00',
  scanStartedAt: '2025-12-20T10:00:00Z',
  scanner: { version: '1.4.2', name: 'stella-scanner' },
  graphDigest: `sha256:${'b'.repeat(64)}`,
  subject: { digest: `sha256:${'a'.repeat(64)}`, name: 'registry.example/app' },
  scanId: 'scan-golden-1',
  tenantId: '3F1C2A9E-8B7D-4E6F-9A1B-2C3D4E5F6A7B',
};

const edge = {
  tenantId: '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b',
  scanId: 'scan-golden-2',
  subject: { name: 'app.tar', digest: `sha256:${'c'.repeat(64)}` },
  graphDigest: `sha256:${'d'.repeat(64)}`,
  scanner: { name: 'stella-scanner', version: '1.4.2' },
  finding: { reachable: true, cvss: 9.8, cveId: 'CVE-2024-3094' },
  escalation: {
    manual: { reason: 'exploited in the wild', requestedBy: 'secteam' },
    policyGate: { requireProof: true, name: 'prod-gate' },
  },
  edges: [
    { from: 'main', to: 'lzma_decode', kind: 'direct' },
    { to: 'lzma_decode_block', from: 'lzma_decode' },
  ],
  priority: -3,
};

describe('content digests (golden)', () => {
  test('a graph input with metadata, start time and priority', () => {
    expect(contentDigest('graph', validateGraphInput(graph))).toBe(
      'sha256:36e041d3ed5a8d24743c186ec84987506270e439d31b88c151a23747ca6b9530',
    );
  });

  test('an edge input with both escalations and edges with and without kind', () => {
    expect(contentDigest('edge', validateEdgeInput(edge))).toBe(
      'sha256:98286d94eb9cf0b6e739a70e2aff9ad463e16b6bf8a91f11c39a049b2b2982cc',
    );
  });

  test('the minimal inputs', () => {
    const { metadata: _m, scanStartedAt: _s, priority: _p, ...minimalGraph } = graph;
    const { escalation: _e, priority: _q, ...minimalEdge } = edge;
    expect(contentDigest('graph', validateGraphInput(minimalGraph))).toBe(
      'sha256:00ee04458482e78b595ae45d293a116cd49e84352c2835ada0331b8ada0adf75',
    );
    expect(contentDigest('edge', validateEdgeInput(minimalEdge))).toBe(
      'sha256:125c5265081d61abb1b0ffe9d92b38a04ce25ef2a5687c986a9996568b596597',
    );
  });

  test('the canonical text: keys sorted by UTF-16 code unit at every level, times re-serialized, no spaces', () => {
    expect(canonicalJson(validateGraphInput(graph))).toBe(
      '{"graphDigest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","metadata":{"10":"ten","9":"nine","Alpha":"upper","alpha":"lower","zeta":"last","ü-key":"ünïcödé \\"quoted\\"\\n"},"priority":7,"scanFinishedAt":"2025-12-20T10:30:00.000Z","scanId":"scan-golden-1","scanStartedAt":"2025-12-20T10:00:00.000Z","scanner":{"name":"stella-scanner","version":"1.4.2"},"subject":{"digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","name":"registry.example/app"},"tenantId":"3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b"}',
    );
  });

  test('optional fields given as undefined are absent: same digest as leaving them out', () => {
    const { metadata: _m, scanStartedAt: _s, priority: _p, ...minimalGraph } = graph;
    const g = validateGraphInput({
      ...minimalGraph,
      scanStartedAt: undefined,
      metadata: undefined,
      priority: undefined,
    });
    expect(undefinedAt(g)).toEqual([]);
    expect(contentDigest('graph', g)).toBe(
      'sha256:00ee04458482e78b595ae45d293a116cd49e84352c2835ada0331b8ada0adf75',
    );

    const e = validateEdgeInput({
      ...edge,
      escalation: { policyGate: undefined, manual: { requestedBy: 'secteam', reason: undefined } },
      edges: [{ from: 'main', to: 'lzma_decode', kind: undefined }],
      priority: undefined,
    });
    expect(undefinedAt(e)).toEqual([]);
    expect(contentDigest('edge', e)).toBe(
      contentDigest(
        'edge',
        validateEdgeInput({
          ...edge,
          escalation: { manual: { requestedBy: 'secteam' } },
          edges: [{ from: 'main', to: 'lzma_decode' }],
        }),
      ),
    );
  });

  test('a metadata key "toJSON" keeps its digest, unless next to whole-number keys', () => {
    const base = {
      ...graph,
      tenantId: graph.tenantId.toLowerCase(),
      scanFinishedAt: '2025-12-20T10:30:00.000Z',
      scanStartedAt: undefined,
      priority: undefined,
    };
    const kept = validateGraphInput({ ...base, metadata: { toJSON: 'x', a: 'b', '1': 'one' } });
    expect(contentDigest('graph', kept)).toBe(
      'sha256:338aef1c18b94dace9802147e536547d53f1c4d94e7ec726a2bdada5ced1fb37',
    );
    try {
      validateGraphInput({ ...base, metadata: { toJSON: 'x', '9': 'nine', '10': 'ten' } });
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect(e).toMatchObject({ code: 'INVALID_INPUT', field: 'metadata' });
    }
  });
});

/** Paths of the properties whose value is `undefined`. */
function undefinedAt(value: unknown, path = ''): string[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) =>
    v === undefined ? [`${path}.${k}`] : undefinedAt(v, `${path}.${k}`),
  );
}

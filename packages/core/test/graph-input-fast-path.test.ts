import {
  buildStatement,
  contentIdentity,
  STATEMENT_OVERHEAD_MAX,
  statementPayload,
} from '@rekor-budget/core';
import type { Submission } from '@rekor-budget/core';
import {
  attestedText,
  canonicalJson,
  validateEdgeInput,
  validateGraphInput,
  validateGraphInputBySchema,
} from '../src/submission';
import { D, graph } from './inputs';

/**
 * `validateGraphInput` accepts well-formed Tier 1 inputs on a fast path and
 * leaves the rest to the zod schema: both must give the same answer for
 * every input, valid or not, with the same normalized output.
 */

const base: Record<string, unknown> = graph;

const thenable = { then: () => undefined, catch: () => undefined };
const texts = (max: number) => [
  'x',
  ' padded ',
  'x'.repeat(max),
  'x'.repeat(max + 1),
  '',
  '   ',
  'é😀',
  7,
  null,
  undefined,
  ['x'],
  { toString: () => 'x' },
];
const digests = [D('c'), D('C'), `sha256:${'a'.repeat(63)}`, `sha1:${'a'.repeat(40)}`, '', 5, undefined];
const times = [
  '2025-12-20T10:00:00Z',
  '2025-12-20T10:00:00.123+02:00',
  '2025-12-20T25:00:00Z',
  '2025-12-20',
  'yesterday',
  new Date('2025-12-20T10:00:00Z'),
  new Date('invalid'),
  1766224800000,
  undefined,
  null,
];

/** Every field of the base input replaced by each candidate, one at a time. */
const variants: Record<string, unknown[]> = {
  tenantId: ['3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b', 'nope', '', 42, undefined, null],
  scanId: texts(200),
  subject: [
    { name: 'app', digest: D('d') },
    { name: 'app', digest: D('d'), extra: 1 },
    { name: 'x'.repeat(512), digest: D('d') },
    { name: 'x'.repeat(513), digest: D('d') },
    ...texts(512).map((name) => ({ name, digest: D('d') })),
    ...digests.map((digest) => ({ name: 'app', digest })),
    Object.assign(new Map(), { name: 'app', digest: D('d') }),
    Object.assign(new Date(), { name: 'app', digest: D('d') }),
    Object.assign(Object.create(null), { name: 'app', digest: D('d') }),
    Object.assign({ ...thenable }, { name: 'app', digest: D('d') }),
    ['app', D('d')],
    'app',
    null,
    undefined,
  ],
  graphDigest: digests,
  scanner: [
    { name: 'grype', version: '0.1' },
    { name: 'grype', version: '0.1', vendor: 'x' },
    ...texts(100).map((name) => ({ name, version: '1' })),
    ...texts(100).map((version) => ({ name: 'grype', version })),
    new Set(),
    'grype',
    undefined,
  ],
  scanFinishedAt: times,
  scanStartedAt: times,
  metadata: [
    { b: '2', a: '1' },
    {},
    { '10': 'x', '9': 'y' },
    { '10': 'x', toJSON: 'y' },
    { '1': 'x', toJSON: 'y' },
    { toJSON: 'y', a: 'x' },
    { a: 1 },
    { a: undefined },
    ['x'],
    new Map([['a', '1']]),
    'a=1',
    null,
    undefined,
  ],
  priority: [0, 5, -1000, 1000, 1001, -1001, 1.5, Number.NaN, Infinity, '5', null, undefined],
  extra: ['kept out', undefined],
};

function outcome(validate: (raw: unknown) => unknown, raw: unknown): { ok: unknown } | { error: string } {
  try {
    return { ok: validate(raw) };
  } catch (e) {
    return { error: `${(e as { code?: string }).code}: ${(e as Error).message}` };
  }
}

function corpus(): unknown[] {
  const out: unknown[] = [
    base,
    null,
    undefined,
    'x',
    [],
    [base],
    new Date(),
    new Map(),
    { ...thenable, ...base },
  ];
  for (const [key, values] of Object.entries(variants)) {
    for (const value of values) out.push({ ...base, [key]: value });
  }
  // two fields at fault at once: the schema's order of report holds
  out.push({ ...base, tenantId: 'nope', scanId: '' }, { ...base, subject: 'x', graphDigest: 5 });
  return out;
}

describe('the Tier 1 fast path', () => {
  test('answers every input as the schema does, with the same output and key order', () => {
    let accepted = 0;
    let refused = 0;
    for (const raw of corpus()) {
      const fast = outcome(validateGraphInput, raw);
      const schema = outcome(validateGraphInputBySchema, raw);
      expect(fast).toEqual(schema);
      if ('ok' in fast) {
        expect(JSON.stringify(fast.ok)).toBe(JSON.stringify((schema as { ok: unknown }).ok));
        accepted++;
      } else {
        refused++;
      }
    }
    // the corpus exercises both answers
    expect(accepted).toBeGreaterThan(30);
    expect(refused).toBeGreaterThan(60);
  });
});

describe('the Tier 1 canonical text', () => {
  const general = (input: object) => {
    const { priority: _priority, ...attested } = input as Record<string, unknown>;
    return canonicalJson(attested);
  };

  test('is the canonical JSON of every accepted input, and of shapes no validation gives', () => {
    const accepted = corpus().flatMap((raw) => {
      const r = outcome(validateGraphInput, raw);
      return 'ok' in r ? [r.ok as Record<string, unknown>] : [];
    });
    const valid = accepted[0]!;
    const inherited = Object.assign(Object.create({ tenantId: valid.tenantId }) as object, valid);
    delete (inherited as Record<string, unknown>).tenantId;
    const odd: object[] = [
      { ...valid, extra: 'x' },
      { ...valid, scanStartedAt: undefined },
      { ...valid, priority: undefined },
      { ...valid, metadata: { '10': 'a', '9': 'b', B: 'c', a: 'd', é: 'e' } },
      { ...valid, scanId: 'quote " backslash \\ newline \n \u2028 😀' },
      { ...valid, scanId: 7 },
      { ...valid, subject: { ...(valid.subject as object), extra: 1 } },
      { ...valid, subject: { name: 'x' } },
      { ...valid, subject: Object.assign(Object.create(null) as object, valid.subject) },
      { ...valid, scanner: { version: '1', name: 'n' } },
      { ...valid, scanner: { ...(valid.scanner as object), toJSON: () => 'x' } },
      { ...valid, toJSON: () => ({}) },
      inherited,
      { ...valid, subject: ['app', D('d')] },
    ];
    for (const input of [...accepted, ...odd]) {
      expect(attestedText('graph', input as never)).toBe(general(input));
    }
    expect(accepted.length).toBeGreaterThan(30);
  });
});

describe('the statement size bound', () => {
  test('a statement adds at most STATEMENT_OVERHEAD_MAX bytes to its canonical input', () => {
    const graph = validateGraphInput({
      ...base,
      scanStartedAt: '2025-12-20T09:00:00Z',
      metadata: { k: 'v' },
      priority: 9,
    });
    const edge = validateEdgeInput({
      ...base,
      finding: { cveId: 'CVE-2024-3094', cvss: 9.8, reachable: true },
      edges: [
        { from: 'a', to: 'b', kind: 'call' },
        { from: 'b', to: 'c' },
      ],
      escalation: {
        policyGate: { name: 'g', requireProof: true },
        manual: { requestedBy: 'sec', reason: 'r' },
      },
    });
    const cases: [Submission, number][] = [
      [{ version: 1, tier: 'graph', contentDigest: contentIdentity('graph', graph).digest, input: graph }, 0],
      [
        {
          version: 1,
          tier: 'edge',
          contentDigest: contentIdentity('edge', edge).digest,
          input: edge,
          triggers: ['cvss', 'policy_gate', 'manual'],
        },
        0,
      ],
    ];
    for (const [submission] of cases) {
      const { canonicalLength } = contentIdentity(submission.tier, submission.input);
      const bytes = statementPayload(buildStatement(submission)).length;
      // the canonical input here is ASCII: one byte per unit
      expect(bytes - canonicalLength).toBeGreaterThan(0);
      expect(bytes - canonicalLength).toBeLessThanOrEqual(STATEMENT_OVERHEAD_MAX / 2);
    }
  });

  test('multi-byte text stays within three bytes per canonical unit', () => {
    const input = validateGraphInput({ ...base, scanId: '😀'.repeat(100), metadata: { ü: 'ñ'.repeat(150) } });
    const { digest, canonicalLength } = contentIdentity('graph', input);
    const bytes = statementPayload(
      buildStatement({ version: 1, tier: 'graph', contentDigest: digest, input }),
    ).length;
    expect(bytes).toBeLessThanOrEqual(canonicalLength * 3 + STATEMENT_OVERHEAD_MAX);
    expect(bytes).toBeGreaterThan(canonicalLength);
  });
});

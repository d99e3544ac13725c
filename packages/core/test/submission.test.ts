import {
  contentDigest,
  firedTriggers,
  InputError,
  parseConfigText,
  validateEdgeInput,
  validateGraphInput,
} from '@rekor-budget/core';
import { graph } from './inputs';

const edge = {
  ...graph,
  finding: { cveId: 'CVE-2024-3094', cvss: 9.8, reachable: true },
  edges: [{ from: 'main', to: 'lzma_decode' }],
};

function codeOf(fn: () => unknown): { code: string; field: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return { code: (e as InputError).code, field: (e as InputError).field };
  }
  throw new Error('accepted');
}

describe('submission inputs', () => {
  test('a valid graph input is normalized (lower-case tenant, ISO times)', () => {
    const v = validateGraphInput(graph);
    expect(v.tenantId).toBe(graph.tenantId.toLowerCase());
    expect(v.scanFinishedAt).toBe('2025-12-20T10:00:00.000Z');
  });

  test.each([
    [{ tenantId: 'nope' }, 'INVALID_TENANT', 'tenantId'],
    [{ graphDigest: 'sha256:XYZ' }, 'INVALID_DIGEST', 'graphDigest'],
    [{ graphDigest: `sha1:${'a'.repeat(40)}` }, 'INVALID_DIGEST', 'graphDigest'],
    [{ subject: { name: 'x', digest: 'abc' } }, 'INVALID_DIGEST', 'subject.digest'],
    [{ scanId: '' }, 'INVALID_INPUT', 'scanId'],
    [{ scanFinishedAt: 'yesterday' }, 'INVALID_INPUT', 'scanFinishedAt'],
    // a day the calendar does not have: Date.parse would move it into March
    [{ scanFinishedAt: '2025-02-30T00:00:00Z' }, 'INVALID_INPUT', 'scanFinishedAt'],
    [{ scanFinishedAt: '2025-02-29T00:00:00Z' }, 'INVALID_INPUT', 'scanFinishedAt'],
    // no offset: Date.parse would read it in this machine's time zone
    [{ scanFinishedAt: '2025-12-20T10:00:00' }, 'INVALID_INPUT', 'scanFinishedAt'],
    [{ scanFinishedAt: '2025-12-20T24:00:00Z' }, 'INVALID_INPUT', 'scanFinishedAt'],
    [{ scanFinishedAt: '2025-12-20T10:00:60Z' }, 'INVALID_INPUT', 'scanFinishedAt'],
    [{ scanFinishedAt: '2025-12-20T10:00:00+24:00' }, 'INVALID_INPUT', 'scanFinishedAt'],
    [{ scanStartedAt: '2025-13-01T00:00:00Z' }, 'INVALID_INPUT', 'scanStartedAt'],
    [{ scanner: 'v1' }, 'INVALID_INPUT', 'scanner'],
    [{ metadata: { a: 1 } }, 'INVALID_INPUT', 'metadata'],
    [{ priority: 1.5 }, 'INVALID_INPUT', 'priority'],
  ])('graph input with %j is refused with %s on %s', (patch, code, field) => {
    expect(codeOf(() => validateGraphInput({ ...graph, ...patch }))).toEqual({ code, field });
  });

  test.each([
    ['2024-02-29T23:59:59Z', '2024-02-29T23:59:59.000Z'],
    ['2000-02-29t00:00:00z', '2000-02-29T00:00:00.000Z'],
    ['2025-12-20T11:30:00.25+01:30', '2025-12-20T10:00:00.250Z'],
    ['2025-12-31T23:59:59-00:00', '2025-12-31T23:59:59.000Z'],
  ])('the RFC 3339 time %s is accepted as %s', (at, iso) => {
    expect(validateGraphInput({ ...graph, scanFinishedAt: at }).scanFinishedAt).toBe(iso);
  });

  test.each([
    [{ finding: { cveId: 'CVE-2024-3094', cvss: 10.1, reachable: true } }, 'finding.cvss'],
    [{ finding: { cveId: 'CVE-2024-3094', cvss: -1, reachable: true } }, 'finding.cvss'],
    [{ finding: { cveId: 'bug-1', cvss: 5, reachable: true } }, 'finding.cveId'],
    [{ finding: { cveId: 'CVE-2024-3094', cvss: 5, reachable: 'yes' } }, 'finding.reachable'],
    [{ edges: 'a->b' }, 'edges'],
    [{ edges: [{ from: 'a' }] }, 'edges[0].to'],
    [{ escalation: { policyGate: { name: 'g' } } }, 'escalation.policyGate'],
  ])('edge input with %j is refused on %s', (patch, field) => {
    expect(codeOf(() => validateEdgeInput({ ...edge, ...patch })).field).toBe(field);
  });

  test('the content digest ignores key order and priority, and sees every attested field', () => {
    const a = contentDigest('graph', validateGraphInput(graph));
    const reordered = Object.fromEntries(Object.entries(graph).reverse());
    expect(contentDigest('graph', validateGraphInput({ ...reordered, priority: 5 }))).toBe(a);
    expect(contentDigest('graph', validateGraphInput({ ...graph, scanId: 'scan-2' }))).not.toBe(a);
    expect(contentDigest('edge', validateGraphInput(graph))).not.toBe(a);
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('edge triggers', () => {
  const all = parseConfigText('', { source: 't' }).edgeBundles.triggers;

  test('CVSS at or above the threshold fires only when reachable', () => {
    expect(firedTriggers(validateEdgeInput(edge), all)).toEqual(['cvss']);
    const at = { ...edge, finding: { ...edge.finding, cvss: 9.0 } };
    expect(firedTriggers(validateEdgeInput(at), all)).toEqual(['cvss']);
    const below = { ...edge, finding: { ...edge.finding, cvss: 8.9 } };
    expect(firedTriggers(validateEdgeInput(below), all)).toEqual([]);
    const unreachable = { ...edge, finding: { ...edge.finding, reachable: false } };
    expect(firedTriggers(validateEdgeInput(unreachable), all)).toEqual([]);
  });

  test('a failed gate fires only with require_proof; a manual request fires', () => {
    const low = { ...edge, finding: { ...edge.finding, cvss: 4 } };
    const gate = (requireProof: boolean) => ({
      ...low,
      escalation: { policyGate: { name: 'prod', requireProof } },
    });
    expect(firedTriggers(validateEdgeInput(gate(true)), all)).toEqual(['policy_gate']);
    expect(firedTriggers(validateEdgeInput(gate(false)), all)).toEqual([]);
    const manual = { ...low, escalation: { manual: { requestedBy: 'secteam' } } };
    expect(firedTriggers(validateEdgeInput(manual), all)).toEqual(['manual']);
  });

  test('a trigger left out of the configuration never fires', () => {
    const onlyManual = parseConfigText(
      'attestor:\n  rekor:\n    edgeBundles:\n      triggers:\n        - manualEscalation: true',
      {
        source: 't',
      },
    ).edgeBundles.triggers;
    expect(firedTriggers(validateEdgeInput(edge), onlyManual)).toEqual([]);
  });
});

import type { Sha256Digest } from './domain';
import { InputError } from './errors';
import { canonicalJson, type Submission } from './submission';

/**
 * The in-toto statement a submission is attested as: the bytes that get
 * signed (`@rekor-budget/rekor`) and whose size the producer bounds.
 */

/** in-toto Statement v1 type. */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** DSSE payload type of an in-toto statement. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** Predicate types, versioned: a breaking change to a predicate gets a new URI. */
export const PREDICATE_TYPES = {
  graph: 'https://rekor-budget.dev/attestations/graph/v1',
  edge: 'https://rekor-budget.dev/attestations/edge-bundle/v1',
} as const;

export interface StatementSubject {
  name: string;
  digest: { sha256: string };
}

/** Tier 1 predicate: one completed scan and its call-graph digest. */
export interface GraphPredicate {
  contentDigest: Sha256Digest;
  tenantId: string;
  graphDigest: Sha256Digest;
  scan: { id: string; startedAt?: string; finishedAt: string };
  scanner: { name: string; version: string };
  metadata?: Record<string, string>;
}

/** Tier 2 predicate: an escalated finding and the edges of its reachable paths. */
export interface EdgeBundlePredicate {
  contentDigest: Sha256Digest;
  tenantId: string;
  graphDigest: Sha256Digest;
  scan: { id: string };
  scanner: { name: string; version: string };
  finding: { cveId: string; cvss: number; reachable: boolean };
  triggers: string[];
  escalation?: {
    policyGate?: { name: string; requireProof: boolean };
    manual?: { requestedBy: string; reason?: string };
  };
  edges: { from: string; to: string; kind?: string }[];
}

export type Statement =
  | {
      _type: typeof STATEMENT_TYPE;
      subject: StatementSubject[];
      predicateType: (typeof PREDICATE_TYPES)['graph'];
      predicate: GraphPredicate;
    }
  | {
      _type: typeof STATEMENT_TYPE;
      subject: StatementSubject[];
      predicateType: (typeof PREDICATE_TYPES)['edge'];
      predicate: EdgeBundlePredicate;
    };

function hex(digest: Sha256Digest): string {
  return digest.slice('sha256:'.length);
}

/**
 * The in-toto statement of a submission. Pure: the same submission always
 * yields the same statement, and `statementPayload` the same bytes.
 */
export function buildStatement(submission: Submission): Statement {
  const { input } = submission;
  if (!input || !input.subject || !input.scanner) {
    throw new InputError(
      'INVALID_INPUT',
      'submission',
      'has no validated input; build it with the producer (validateGraphInput / validateEdgeInput)',
    );
  }
  const subject = [{ name: input.subject.name, digest: { sha256: hex(input.subject.digest) } }];
  const scanner = { name: input.scanner.name, version: input.scanner.version };
  if (submission.tier === 'graph') {
    const g = submission.input;
    const predicate: GraphPredicate = {
      contentDigest: submission.contentDigest,
      tenantId: g.tenantId,
      graphDigest: g.graphDigest,
      scan: { id: g.scanId, finishedAt: g.scanFinishedAt },
      scanner,
    };
    if (g.scanStartedAt !== undefined) predicate.scan.startedAt = g.scanStartedAt;
    if (g.metadata !== undefined) predicate.metadata = { ...g.metadata };
    return { _type: STATEMENT_TYPE, subject, predicateType: PREDICATE_TYPES.graph, predicate };
  }
  const e = submission.input;
  const predicate: EdgeBundlePredicate = {
    contentDigest: submission.contentDigest,
    tenantId: e.tenantId,
    graphDigest: e.graphDigest,
    scan: { id: e.scanId },
    scanner,
    finding: { cveId: e.finding.cveId, cvss: e.finding.cvss, reachable: e.finding.reachable },
    triggers: [...submission.triggers],
    edges: e.edges.map((x) => (x.kind === undefined ? { from: x.from, to: x.to } : { ...x })),
  };
  if (e.escalation !== undefined) predicate.escalation = structuredClone(e.escalation);
  return { _type: STATEMENT_TYPE, subject, predicateType: PREDICATE_TYPES.edge, predicate };
}

/** The statement's bytes: canonical JSON (sorted keys, no whitespace), UTF-8. */
export function statementPayload(statement: Statement): Buffer {
  return Buffer.from(canonicalJson(statement), 'utf8');
}

/**
 * At most what a statement adds to the canonical input it is built from (in
 * bytes): the fixed texts (the types, the keys), the content digest, the
 * triggers. Every input string appears in the statement once, escaped as in
 * the canonical input. A test holds the bound against the largest statement.
 */
export const STATEMENT_OVERHEAD_MAX = 1024;

/**
 * Refuses a submission whose statement, as it will be signed, is larger than
 * `maxPayloadBytes`: what the worker could not sign and the log would refuse.
 * The producer checks it before anything is queued, the worker again. Given
 * the canonical input's length (`contentIdentity`), a statement that surely
 * fits (3 UTF-8 bytes at most per UTF-16 unit, plus the overhead) is not built.
 */
export function checkPayloadSize(
  submission: Submission,
  maxPayloadBytes: number,
  canonicalInputLength?: number,
): void {
  if (
    canonicalInputLength !== undefined &&
    canonicalInputLength * 3 + STATEMENT_OVERHEAD_MAX <= maxPayloadBytes
  ) {
    return;
  }
  const tier = submission.tier;
  const size = statementPayload(buildStatement(submission)).length;
  if (size > maxPayloadBytes) {
    throw new InputError(
      'PAYLOAD_TOO_LARGE',
      tier === 'edge' ? 'edges' : 'input',
      `the ${tier} attestation's statement would be ${size} bytes, over the limit maxPayloadBytes (${maxPayloadBytes}); trim the ${tier === 'edge' ? 'edges to the reachable paths' : 'metadata'} or raise maxPayloadBytes (public Rekor takes 100 KiB)`,
    );
  }
}

import { createHash } from 'node:crypto';
import type { EdgeTrigger, Sha256Digest, Tier } from './domain';
import { isSha256Digest, isTenantId } from './domain';
import { InputError } from './errors';
import type { EdgeTriggerConfig } from './config/schema';

/**
 * What scanners submit. The producer validates these inputs, the worker turns
 * them into in-toto statements. Everything that goes into the statement is
 * here, so the same input always yields the same statement and the same
 * content digest (the submission's identity).
 */

/** The scanned artifact: the statement's subject. */
export interface ArtifactRef {
  /** e.g. `registry.example.com/app` or `app.tar`. */
  name: string;
  digest: Sha256Digest;
}

export interface ScannerRef {
  name: string;
  version: string;
}

/** Tier 1: one graph attestation per completed scan. */
export interface GraphAttestationInput {
  tenantId: string;
  scanId: string;
  subject: ArtifactRef;
  /** `CallGraphSnapshot.GraphDigest`. */
  graphDigest: Sha256Digest;
  scanner: ScannerRef;
  /** RFC 3339 times of the scan. */
  scanStartedAt?: string;
  scanFinishedAt: string;
  /** Further scan metadata, string to string. */
  metadata?: Record<string, string>;
  /** Higher drains first from the offline queue. @defaultValue 0 */
  priority?: number;
}

export interface Finding {
  /** e.g. `CVE-2024-3094`. */
  cveId: string;
  /** CVSS base score, 0.0 to 10.0. */
  cvss: number;
  reachable: boolean;
}

/** One edge of a reachable call path. */
export interface CallEdge {
  from: string;
  to: string;
  kind?: string;
}

/** Why a finding is escalated. Triggers fire on what is present here. */
export interface Escalation {
  /** A policy gate that failed; fires the `policy_gate` trigger when `requireProof`. */
  policyGate?: { name: string; requireProof: boolean };
  /** A security team's request; fires the `manual` trigger. */
  manual?: { requestedBy: string; reason?: string };
}

/** Tier 2: an edge bundle for an escalated finding. */
export interface EdgeBundleInput {
  tenantId: string;
  scanId: string;
  subject: ArtifactRef;
  graphDigest: Sha256Digest;
  scanner: ScannerRef;
  finding: Finding;
  escalation?: Escalation;
  /** The edges of the reachable paths to the vulnerable code. */
  edges: CallEdge[];
  priority?: number;
}

/** A validated submission as it travels in job data and the offline queue. */
export type Submission =
  | { version: 1; tier: 'graph'; contentDigest: Sha256Digest; input: GraphAttestationInput }
  | {
      version: 1;
      tier: 'edge';
      contentDigest: Sha256Digest;
      input: EdgeBundleInput;
      /** The triggers that fired, in a fixed order. */
      triggers: EdgeTrigger[];
    };

// ------------------------------------------------------------ validation

const MAX_TEXT = 512;
const CVE_RE = /^CVE-\d{4}-\d{4,}$/;

function fail(
  field: string,
  message: string,
  code: 'INVALID_INPUT' | 'INVALID_DIGEST' | 'INVALID_TENANT' = 'INVALID_INPUT',
): never {
  throw new InputError(code, field, message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function text(v: unknown, field: string, max = MAX_TEXT): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > max) {
    fail(field, `${JSON.stringify(v)} is not a non-empty string of at most ${max} characters`);
  }
  return v;
}

function digest(v: unknown, field: string): Sha256Digest {
  if (!isSha256Digest(v)) {
    fail(
      field,
      `${JSON.stringify(v)} is not a sha256 digest; use "sha256:" and 64 lower-case hex digits`,
      'INVALID_DIGEST',
    );
  }
  return v;
}

function time(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(Date.parse(v))) {
    fail(field, `${JSON.stringify(v)} is not an RFC 3339 time; use e.g. "2025-12-20T10:00:00Z"`);
  }
  return new Date(v).toISOString();
}

function tenant(v: unknown): string {
  if (!isTenantId(v)) {
    fail('tenantId', `${JSON.stringify(v)} is not a UUID; pass the tenant's UUID`, 'INVALID_TENANT');
  }
  return v.toLowerCase();
}

function priority(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || (v as number) < -1000 || (v as number) > 1000) {
    fail('priority', `${JSON.stringify(v)} is not a whole number from -1000 to 1000`);
  }
  return v as number;
}

function common(raw: unknown) {
  if (!isRecord(raw)) fail('input', 'is not an object');
  const subject = raw.subject;
  if (!isRecord(subject)) fail('subject', 'is not an object with name and digest');
  const scanner = raw.scanner;
  if (!isRecord(scanner)) fail('scanner', 'is not an object with name and version');
  return {
    raw,
    tenantId: tenant(raw.tenantId),
    scanId: text(raw.scanId, 'scanId', 200),
    subject: { name: text(subject.name, 'subject.name'), digest: digest(subject.digest, 'subject.digest') },
    graphDigest: digest(raw.graphDigest, 'graphDigest'),
    scanner: {
      name: text(scanner.name, 'scanner.name', 100),
      version: text(scanner.version, 'scanner.version', 100),
    },
    priority: priority(raw.priority),
  };
}

/** Validates and normalizes a Tier 1 input; throws `InputError`. */
export function validateGraphInput(raw: unknown): GraphAttestationInput {
  const c = common(raw);
  const out: GraphAttestationInput = {
    tenantId: c.tenantId,
    scanId: c.scanId,
    subject: c.subject,
    graphDigest: c.graphDigest,
    scanner: c.scanner,
    scanFinishedAt: time(c.raw.scanFinishedAt, 'scanFinishedAt'),
  };
  if (c.raw.scanStartedAt !== undefined) out.scanStartedAt = time(c.raw.scanStartedAt, 'scanStartedAt');
  if (c.raw.metadata !== undefined) {
    const m = c.raw.metadata;
    if (!isRecord(m) || Object.values(m).some((v) => typeof v !== 'string')) {
      fail('metadata', 'is not an object of string values');
    }
    out.metadata = Object.fromEntries(
      Object.entries(m as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1)),
    );
  }
  if (c.priority !== undefined) out.priority = c.priority;
  return out;
}

/** Validates and normalizes a Tier 2 input; throws `InputError`. */
export function validateEdgeInput(raw: unknown): EdgeBundleInput {
  const c = common(raw);
  const f = c.raw.finding;
  if (!isRecord(f)) fail('finding', 'is not an object with cveId, cvss and reachable');
  if (typeof f.cveId !== 'string' || !CVE_RE.test(f.cveId)) {
    fail('finding.cveId', `${JSON.stringify(f.cveId)} is not a CVE id; use e.g. "CVE-2024-3094"`);
  }
  if (typeof f.cvss !== 'number' || !Number.isFinite(f.cvss) || f.cvss < 0 || f.cvss > 10) {
    fail('finding.cvss', `${JSON.stringify(f.cvss)} is not a CVSS score; use a number from 0.0 to 10.0`);
  }
  if (typeof f.reachable !== 'boolean')
    fail('finding.reachable', `${JSON.stringify(f.reachable)} is not a boolean`);
  if (!Array.isArray(c.raw.edges)) fail('edges', 'is not a list of {from, to} edges');
  const edges = (c.raw.edges as unknown[]).map((e, i) => {
    if (!isRecord(e)) fail(`edges[${i}]`, 'is not an object with from and to');
    const edge: CallEdge = { from: text(e.from, `edges[${i}].from`), to: text(e.to, `edges[${i}].to`) };
    if (e.kind !== undefined) edge.kind = text(e.kind, `edges[${i}].kind`, 64);
    return edge;
  });
  const out: EdgeBundleInput = {
    tenantId: c.tenantId,
    scanId: c.scanId,
    subject: c.subject,
    graphDigest: c.graphDigest,
    scanner: c.scanner,
    finding: { cveId: f.cveId as string, cvss: f.cvss as number, reachable: f.reachable as boolean },
    edges,
  };
  const esc = c.raw.escalation;
  if (esc !== undefined) {
    if (!isRecord(esc)) fail('escalation', 'is not an object');
    const e: Escalation = {};
    if (esc.policyGate !== undefined) {
      const g = esc.policyGate;
      if (!isRecord(g) || typeof g.requireProof !== 'boolean') {
        fail('escalation.policyGate', 'is not an object with name and requireProof (boolean)');
      }
      e.policyGate = {
        name: text(g.name, 'escalation.policyGate.name'),
        requireProof: g.requireProof as boolean,
      };
    }
    if (esc.manual !== undefined) {
      const m = esc.manual;
      if (!isRecord(m)) fail('escalation.manual', 'is not an object with requestedBy');
      e.manual = { requestedBy: text(m.requestedBy, 'escalation.manual.requestedBy') };
      if (m.reason !== undefined) e.manual.reason = text(m.reason, 'escalation.manual.reason', 2000);
    }
    out.escalation = e;
  }
  if (c.priority !== undefined) out.priority = c.priority;
  return out;
}

// ------------------------------------------------------------ identity

/** JSON with object keys sorted at every level: one text per value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The submission's identity: sha256 over the tier and the canonical input
 * (priority excluded: it orders work, it does not change what is attested).
 */
export function contentDigest(tier: Tier, input: GraphAttestationInput | EdgeBundleInput): Sha256Digest {
  const { priority: _priority, ...attested } = input;
  const hex = createHash('sha256')
    .update(`rekor-budget/v1\n${tier}\n${canonicalJson(attested)}`)
    .digest('hex');
  return `sha256:${hex}`;
}

// ------------------------------------------------------------ triggers

/**
 * The Tier 2 triggers an input fires under the configured triggers, in the
 * order cvss, policy_gate, manual. Empty means "not escalated".
 */
export function firedTriggers(input: EdgeBundleInput, triggers: EdgeTriggerConfig): EdgeTrigger[] {
  const fired: EdgeTrigger[] = [];
  if (
    triggers.cvssThreshold !== undefined &&
    input.finding.reachable &&
    input.finding.cvss >= triggers.cvssThreshold
  ) {
    fired.push('cvss');
  }
  if (triggers.policyGate === 'require_proof' && input.escalation?.policyGate?.requireProof === true) {
    fired.push('policy_gate');
  }
  if (triggers.manualEscalation && input.escalation?.manual !== undefined) fired.push('manual');
  return fired;
}

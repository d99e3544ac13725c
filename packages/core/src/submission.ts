import * as crypto from 'node:crypto';
import { json } from '@sigstore/core';
import { z } from 'zod';
import type { EdgeTrigger, Sha256Digest, Tier } from './domain';
import { isSha256Digest, isTenantId } from './domain';
import { InputError, type InputErrorCode } from './errors';
import type { EdgeTriggerConfig } from './config/schema';
import { formatPath } from './path';
import { rfc3339TimeMs } from './time';
import { echo } from './redact';

/**
 * What scanners submit. The producer validates these inputs, the worker turns
 * them into in-toto statements. Everything that goes into the statement is
 * here, so the same input always yields the same statement and the same
 * content digest (the submission's identity).
 *
 * The schemas below are the one declaration of each input: the types are
 * their outputs. Validated inputs hold only strings, numbers, booleans, plain
 * objects and arrays, and never a key whose value is `undefined`, so their
 * canonical JSON is always well defined.
 */

const MAX_TEXT = 512;
const CVE_RE = /^CVE-\d{4}-\d{4,}$/;

/**
 * The rules of the input fields, each a predicate: the zod schemas below are
 * built on them, and so is the fast path that accepts a well-formed Tier 1
 * input without zod (`validateGraphInput`).
 */
const isText = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length <= max && v.trim() !== '';

const isTime = (v: unknown): v is string | Date =>
  v instanceof Date ? !Number.isNaN(v.getTime()) : typeof v === 'string' && !Number.isNaN(rfc3339TimeMs(v));
/** One form of a time: UTC, milliseconds. */
const toIsoTime = (v: string | Date): string => new Date(v).toISOString();

const isPriority = (v: unknown): v is number => Number.isInteger(v) && Math.abs(v as number) <= 1000;

/**
 * Further scan metadata, string to string, keys sorted. A key `toJSON` next
 * to whole-number keys is refused: canonical JSON writes an object with a
 * `toJSON` member in JavaScript's own key order, which puts whole-number keys
 * ("9", "10") first, so the metadata would have no sorted canonical text.
 * Returns the sorted metadata, or `undefined` when refused.
 */
function sortedMetadata(m: unknown): Record<string, string> | undefined {
  if (!isRecord(m)) return undefined;
  const entries = Object.entries(m);
  if (!entries.every(([, v]) => typeof v === 'string')) return undefined;
  const sorted = Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1))) as Record<string, string>;
  return !Object.hasOwn(sorted, 'toJSON') || isSorted(Object.keys(sorted)) ? sorted : undefined;
}

/**
 * One input field: `accept` decides whether the value is valid; a refusal is
 * one issue with `message`, which names the value and says what to pass
 * instead, and the `InputError` code.
 */
function field<T>(
  accept: (value: unknown) => boolean,
  message: (value: unknown) => string,
  code: Exclude<InputErrorCode, 'PAYLOAD_TOO_LARGE'> = 'INVALID_INPUT',
) {
  return z.custom<T>(accept, (value: unknown) => ({ message: message(value), params: { code } }));
}

function text(max = MAX_TEXT) {
  return field<string>(
    (v) => isText(v, max),
    (v) => `${echo(v)} is not a non-empty string of at most ${max} characters`,
  );
}

const digest = field<Sha256Digest>(
  isSha256Digest,
  (v) => `${echo(v)} is not a sha256 digest; use "sha256:" and 64 lower-case hex digits`,
  'INVALID_DIGEST',
);

/** An RFC 3339 time or a valid `Date`, re-serialized in one form (UTC, milliseconds). */
const time = field<string | Date>(isTime, (v) =>
  v instanceof Date
    ? 'is an invalid Date; pass a valid Date or an RFC 3339 time, e.g. "2025-12-20T10:00:00Z"'
    : `${echo(v)} is not an RFC 3339 time; use e.g. "2025-12-20T10:00:00Z" or a Date`,
).transform(toIsoTime);

/** A tenant UUID, in lower case. */
const tenantId = field<string>(
  isTenantId,
  (v) => `${echo(v)} is not a UUID; pass the tenant's UUID`,
  'INVALID_TENANT',
).transform((v) => v.toLowerCase());

const priority = field<number>(isPriority, (v) => `${echo(v)} is not a whole number from -1000 to 1000`);

const metadata = field<Record<string, unknown>>(
  (v) => sortedMetadata(v) !== undefined,
  metadataFault,
).transform((m) => sortedMetadata(m)!);

function metadataFault(v: unknown): string {
  if (!isRecord(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    return 'is not an object of string values';
  }
  const whole = Object.keys(v).filter((k) => /^(0|[1-9]\d*)$/.test(k));
  return `has the key "toJSON" next to the whole-number keys ${echo(whole)}; rename "toJSON" or those keys`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isSorted(keys: readonly string[]): boolean {
  return keys.every((k, i) => i === 0 || keys[i - 1]! < k);
}

/** The object without the optional keys that were given as `undefined`. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const artifactRef = z.object(
  {
    /** e.g. `registry.example.com/app` or `app.tar`. */
    name: text(),
    digest,
  },
  { message: 'is not an object with name and digest' },
);

const scannerRef = z.object(
  { name: text(100), version: text(100) },
  { message: 'is not an object with name and version' },
);

/** The fields both tiers share, in the order they are checked. */
const common = {
  tenantId,
  scanId: text(200),
  subject: artifactRef,
  /** `CallGraphSnapshot.GraphDigest`. */
  graphDigest: digest,
  scanner: scannerRef,
};

const graphInput = z
  .object(
    {
      ...common,
      /** RFC 3339 time the scan finished. */
      scanFinishedAt: time,
      /** RFC 3339 time the scan started. */
      scanStartedAt: time.optional(),
      /** Further scan metadata, string to string. */
      metadata: metadata.optional(),
      /** Higher drains first from the offline queue. @defaultValue 0 */
      priority: priority.optional(),
    },
    { message: 'is not an object' },
  )
  .transform(compact);

const finding = z.object(
  {
    /** e.g. `CVE-2024-3094`. */
    cveId: field<string>(
      (v) => typeof v === 'string' && CVE_RE.test(v),
      (v) => `${echo(v)} is not a CVE id; use e.g. "CVE-2024-3094"`,
    ),
    /** CVSS base score, 0.0 to 10.0. */
    cvss: field<number>(
      (v) => typeof v === 'number' && v >= 0 && v <= 10,
      (v) => `${echo(v)} is not a CVSS score; use a number from 0.0 to 10.0`,
    ),
    reachable: field<boolean>(
      (v) => typeof v === 'boolean',
      (v) => `${echo(v)} is not a boolean`,
    ),
  },
  { message: 'is not an object with cveId, cvss and reachable' },
);

const callEdge = z
  .object(
    { from: text(), to: text(), kind: text(64).optional() },
    { message: 'is not an object with from and to' },
  )
  .transform(compact);

const escalation = z
  .object(
    {
      /** A policy gate that failed; fires the `policy_gate` trigger when `requireProof`. */
      policyGate: z
        // the flag is what makes it a gate: checked first, and reported on the gate
        .custom<{ requireProof: boolean }>((g) => isRecord(g) && typeof g.requireProof === 'boolean', {
          message: 'is not an object with name and requireProof (boolean)',
        })
        .pipe(z.object({ name: text(), requireProof: z.boolean() }))
        .optional(),
      /** A security team's request; fires the `manual` trigger. */
      manual: z
        .object(
          { requestedBy: text(), reason: text(2000).optional() },
          { message: 'is not an object with requestedBy' },
        )
        .transform(compact)
        .optional(),
    },
    { message: 'is not an object' },
  )
  .transform(compact);

const edgeInput = z
  .object(
    {
      ...common,
      finding,
      /** The edges of the reachable paths to the vulnerable code. */
      edges: z.array(callEdge, { message: 'is not a list of {from, to} edges' }),
      escalation: escalation.optional(),
      priority: priority.optional(),
    },
    { message: 'is not an object' },
  )
  .transform(compact);

/** The scanned artifact: the statement's subject. */
export type ArtifactRef = z.output<typeof artifactRef>;
export type ScannerRef = z.output<typeof scannerRef>;
/** Tier 1: one graph attestation per completed scan. */
export type GraphAttestationInput = z.output<typeof graphInput>;
export type Finding = z.output<typeof finding>;
/** One edge of a reachable call path. */
export type CallEdge = z.output<typeof callEdge>;
/** Why a finding is escalated. Triggers fire on what is present here. */
export type Escalation = z.output<typeof escalation>;
/** Tier 2: an edge bundle for an escalated finding. */
export type EdgeBundleInput = z.output<typeof edgeInput>;

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

/**
 * Where a fault ranks when an input has several: the outline first (subject
 * and scanner are objects), then the fields both tiers share, then the tier's
 * own fields; within a rank, in schema order. The first one is reported.
 */
function rank(issue: z.ZodIssue): number {
  const [head, ...rest] = issue.path;
  if ((head === 'subject' || head === 'scanner') && rest.length === 0) return 0;
  return head === undefined || head === 'priority' || Object.hasOwn(common, head) ? 1 : 2;
}

/** Parses `raw`, or throws an `InputError` for the first field at fault. */
function validate<S extends z.ZodTypeAny>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues.reduce((first, i) => (rank(i) < rank(first) ? i : first));
  const code: InputErrorCode =
    issue.code === z.ZodIssueCode.custom ? (issue.params?.code ?? 'INVALID_INPUT') : 'INVALID_INPUT';
  throw new InputError(code, formatPath(issue.path) || 'input', issue.message);
}

/**
 * Validates and normalizes a Tier 1 input; throws `InputError`. Every scan
 * submits one, so a well-formed input is accepted on a fast path built on
 * the same field rules as the schema (zod's parse costs more than the queue
 * add that follows); anything else goes to the schema, which decides and
 * words the fault. A test holds both to the same answers.
 */
export function validateGraphInput(raw: unknown): GraphAttestationInput {
  return wellFormedGraphInput(raw) ?? validate(graphInput, raw);
}

/** The schema alone, without the fast path: the reference the fast path is tested against. */
export function validateGraphInputBySchema(raw: unknown): GraphAttestationInput {
  return validate(graphInput, raw);
}

/** What `z.object` takes for an object (zod's `getParsedType` is "object"). */
function isObject(v: unknown): v is Record<string, unknown> {
  if (!isRecord(v) || v instanceof Date || v instanceof Map || v instanceof Set) return false;
  return !(typeof v.then === 'function' && typeof v.catch === 'function');
}

/** The normalized input when every field of `raw` follows its rule, else `undefined`. */
function wellFormedGraphInput(raw: unknown): GraphAttestationInput | undefined {
  if (!isObject(raw)) return undefined;
  const { tenantId, scanId, subject, graphDigest, scanner, scanFinishedAt, scanStartedAt, priority } = raw;
  if (
    !isTenantId(tenantId) ||
    !isText(scanId, 200) ||
    !isObject(subject) ||
    !isText(subject.name, MAX_TEXT) ||
    !isSha256Digest(subject.digest) ||
    !isSha256Digest(graphDigest) ||
    !isObject(scanner) ||
    !isText(scanner.name, 100) ||
    !isText(scanner.version, 100) ||
    !isTime(scanFinishedAt) ||
    (scanStartedAt !== undefined && !isTime(scanStartedAt)) ||
    (priority !== undefined && !isPriority(priority))
  ) {
    return undefined;
  }
  const metadata = raw.metadata === undefined ? undefined : sortedMetadata(raw.metadata);
  if (raw.metadata !== undefined && metadata === undefined) return undefined;
  const input: GraphAttestationInput = {
    tenantId: tenantId.toLowerCase(),
    scanId,
    subject: { name: subject.name, digest: subject.digest },
    graphDigest,
    scanner: { name: scanner.name, version: scanner.version },
    scanFinishedAt: toIsoTime(scanFinishedAt),
  };
  if (scanStartedAt !== undefined) input.scanStartedAt = toIsoTime(scanStartedAt);
  if (metadata !== undefined) input.metadata = metadata;
  if (priority !== undefined) input.priority = priority;
  return input;
}

/** Validates and normalizes a Tier 2 input; throws `InputError`. */
export function validateEdgeInput(raw: unknown): EdgeBundleInput {
  return validate(edgeInput, raw);
}

// ------------------------------------------------------------ identity

/**
 * JSON with object keys sorted at every level and no whitespace: one text per
 * value. This is sigstore's canonical JSON, meant for JSON data: a property
 * whose value is `undefined` comes out as `undefined` (not JSON), and an
 * object with a `toJSON` member is written by `JSON.stringify`, keys unsorted.
 * Validated inputs are built so that neither can happen.
 */
export const canonicalJson: (value: unknown) => string = json.canonicalize;

/**
 * The submission's identity: sha256 over the tier and the canonical input
 * (priority excluded: it orders work, it does not change what is attested).
 */
export function contentDigest(tier: Tier, input: GraphAttestationInput | EdgeBundleInput): Sha256Digest {
  return contentIdentity(tier, input).digest;
}

/**
 * The content digest, and the length (UTF-16 code units) of the canonical
 * input it was computed over: enough for `checkPayloadSize` to pass a
 * statement that is surely small without building it.
 */
export function contentIdentity(
  tier: Tier,
  input: GraphAttestationInput | EdgeBundleInput,
): { digest: Sha256Digest; canonicalLength: number } {
  const canonical = attestedText(tier, input);
  const hex = sha256Hex(`rekor-budget/v1\n${tier}\n${canonical}`);
  return { digest: `sha256:${hex}`, canonicalLength: canonical.length };
}

/** The canonical text of an input without its priority. */
export function attestedText(tier: Tier, input: GraphAttestationInput | EdgeBundleInput): string {
  if (tier === 'graph') {
    const fast = graphCanonicalText(input as GraphAttestationInput);
    if (fast !== undefined) return fast;
  }
  const { priority: _priority, ...attested } = input;
  return canonicalJson(attested);
}

// one-shot hashing where Node has it (20.12+), half the cost of a Hash object for a short text
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
const sha256Hex = (text: string): string =>
  oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');

const GRAPH_KEYS = new Set([
  'tenantId',
  'scanId',
  'subject',
  'graphDigest',
  'scanner',
  'scanFinishedAt',
  'scanStartedAt',
  'metadata',
  'priority',
]);
const SUBJECT_KEYS = new Set(['name', 'digest']);
const SCANNER_KEYS = new Set(['name', 'version']);

/** How many own enumerable keys `o` has, or -1 if one is not in `known` or holds `undefined`. */
function ownDefinedKeys(o: Record<string, unknown>, known: ReadonlySet<string>): number {
  const keys = Object.keys(o);
  for (const k of keys) if (!known.has(k) || o[k] === undefined) return -1;
  return keys.length;
}

const plain = (o: unknown): o is Record<string, unknown> =>
  typeof o === 'object' && o !== null && !Array.isArray(o) && (o as { toJSON?: unknown }).toJSON == null;
const str = JSON.stringify as (s: string) => string;

/**
 * Canonical JSON of a normalized Tier 1 input (priority left out), written
 * field by field in sorted key order: what `canonicalJson` gives for it, at a
 * fraction of the cost. Anything not of exactly the normalized shape (a
 * missing or extra key, a value of another type) returns `undefined` and
 * takes the general path; a test holds both to the same text.
 */
function graphCanonicalText(i: GraphAttestationInput): string | undefined {
  if (!plain(i) || !plain(i.subject) || !plain(i.scanner)) return undefined;
  const { subject, scanner, metadata, scanStartedAt } = i;
  const fields =
    6 +
    (scanStartedAt !== undefined ? 1 : 0) +
    (metadata !== undefined ? 1 : 0) +
    (i.priority !== undefined ? 1 : 0);
  if (
    // own keys only, each known and defined, as many as the fields read below: exactly those
    ownDefinedKeys(i, GRAPH_KEYS) !== fields ||
    ownDefinedKeys(subject, SUBJECT_KEYS) !== 2 ||
    ownDefinedKeys(scanner, SCANNER_KEYS) !== 2 ||
    typeof i.tenantId !== 'string' ||
    typeof i.scanId !== 'string' ||
    typeof i.graphDigest !== 'string' ||
    typeof i.scanFinishedAt !== 'string' ||
    typeof subject.name !== 'string' ||
    typeof subject.digest !== 'string' ||
    typeof scanner.name !== 'string' ||
    typeof scanner.version !== 'string' ||
    (scanStartedAt !== undefined && typeof scanStartedAt !== 'string') ||
    (metadata !== undefined && !plain(metadata))
  ) {
    return undefined;
  }
  // keys in UTF-16 order: graphDigest, metadata, scanFinishedAt, scanId, scanStartedAt, scanner, subject, tenantId
  return (
    `{"graphDigest":${str(i.graphDigest)}` +
    (metadata !== undefined ? `,"metadata":${canonicalJson(metadata)}` : '') +
    `,"scanFinishedAt":${str(i.scanFinishedAt)},"scanId":${str(i.scanId)}` +
    (scanStartedAt !== undefined ? `,"scanStartedAt":${str(scanStartedAt)}` : '') +
    `,"scanner":{"name":${str(scanner.name)},"version":${str(scanner.version)}}` +
    `,"subject":{"digest":${str(subject.digest)},"name":${str(subject.name)}}` +
    `,"tenantId":${str(i.tenantId)}}`
  );
}

// ------------------------------------------------------------ size

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

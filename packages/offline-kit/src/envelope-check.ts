import { createPublicKey, verify } from 'node:crypto';
import { dsse } from '@sigstore/core';
import {
  contentDigest,
  type EdgeBundleInput,
  type GraphAttestationInput,
  type Sha256Digest,
  type SignedEnvelope,
  type Tier,
} from '@rekor-budget/core';
import {
  assertSignedEnvelope,
  IN_TOTO_PAYLOAD_TYPE,
  PREDICATE_TYPES,
  STATEMENT_TYPE,
  type Statement,
} from '@rekor-budget/rekor';
import { sha256 } from './digest';
import { OfflineKitError } from './error';

/** What an envelope file must attest, from its manifest entry. */
export interface ExpectedAttestation {
  tenantId: string;
  tier: Tier;
  contentDigest: Sha256Digest;
  /** Names the file in error messages. */
  file: string;
}

function bad(file: string, message: string, cause?: unknown): never {
  throw new OfflineKitError('ENVELOPE_INVALID', `${file}: ${message}`, { file, cause });
}

/**
 * The scanner input a statement attests, rebuilt from the statement: the
 * statement carries every attested field, so the content digest can be
 * recomputed from it alone.
 */
export function inputOfStatement(statement: Statement): GraphAttestationInput | EdgeBundleInput {
  const p = statement.predicate;
  const s = statement.subject[0];
  const subject = { name: s?.name ?? '', digest: `sha256:${s?.digest.sha256 ?? ''}` as Sha256Digest };
  const common = {
    tenantId: p.tenantId,
    scanId: p.scan.id,
    subject,
    graphDigest: p.graphDigest,
    scanner: p.scanner,
  };
  if (statement.predicateType === PREDICATE_TYPES.graph) {
    const g = statement.predicate;
    return {
      ...common,
      scanFinishedAt: g.scan.finishedAt,
      ...(g.scan.startedAt === undefined ? {} : { scanStartedAt: g.scan.startedAt }),
      ...(g.metadata === undefined ? {} : { metadata: g.metadata }),
    };
  }
  const e = statement.predicate;
  return {
    ...common,
    finding: e.finding,
    edges: e.edges,
    ...(e.escalation === undefined ? {} : { escalation: e.escalation }),
  };
}

/**
 * Checks an envelope file completely: a signed envelope of the expected
 * shape, a payload matching its digest, a DSSE signature that verifies under
 * the envelope's public key, an in-toto statement of the expected tier and
 * tenant, and a content digest that equals both the manifest entry and the
 * digest recomputed from the statement. Throws `ENVELOPE_INVALID` or
 * `CONTENT_DIGEST_MISMATCH`.
 */
export function checkEnvelope(bytes: Buffer, expected: ExpectedAttestation): SignedEnvelope {
  const { file } = expected;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    bad(file, 'is not JSON', cause);
  }
  try {
    assertSignedEnvelope(value);
  } catch (cause) {
    bad(file, 'is not a signed DSSE envelope', cause);
  }
  const signed = value;
  const { envelope } = signed;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) bad(file, `payload type is not ${IN_TOTO_PAYLOAD_TYPE}`);
  const payload = Buffer.from(envelope.payload, 'base64');
  if (sha256(payload) !== signed.payloadDigest) bad(file, 'the payload does not match its payloadDigest');
  const [sig] = envelope.signatures;
  let ok = false;
  try {
    const key = createPublicKey(signed.publicKeyPem);
    const pae = dsse.preAuthEncoding(envelope.payloadType, payload);
    ok = verify(signed.algorithm === 'ed25519' ? null : 'sha256', pae, key, Buffer.from(sig.sig, 'base64'));
  } catch (cause) {
    bad(file, 'the signature cannot be checked (public key or signature malformed)', cause);
  }
  if (!ok) bad(file, "the DSSE signature does not verify under the envelope's public key");

  let statement: Statement;
  try {
    statement = JSON.parse(payload.toString('utf8')) as Statement;
  } catch (cause) {
    bad(file, 'the payload is not a JSON statement', cause);
  }
  if (statement?._type !== STATEMENT_TYPE || typeof statement.predicate !== 'object') {
    bad(file, 'the payload is not an in-toto statement');
  }
  if (statement.predicateType !== PREDICATE_TYPES[expected.tier]) {
    bad(file, `the statement is not a ${expected.tier} attestation (${String(statement.predicateType)})`);
  }
  if (statement.predicate.tenantId !== expected.tenantId) {
    bad(
      file,
      `the statement's tenant ${statement.predicate.tenantId} is not the manifest's ${expected.tenantId}`,
    );
  }
  const claimed = statement.predicate.contentDigest;
  let recomputed: Sha256Digest;
  try {
    recomputed = contentDigest(expected.tier, inputOfStatement(statement));
  } catch (cause) {
    bad(file, 'the statement lacks attested fields', cause);
  }
  if (claimed !== expected.contentDigest || recomputed !== expected.contentDigest) {
    throw new OfflineKitError(
      'CONTENT_DIGEST_MISMATCH',
      `${file}: the manifest says ${expected.contentDigest}, the statement says ${String(claimed)} and its content digests to ${recomputed}`,
      { file },
    );
  }
  return signed;
}

import { createPublicKey, verify, type KeyObject } from 'node:crypto';
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

/**
 * The public keys whose signatures a connected site accepts in a kit: the
 * air-gapped site's signing keys, given by the operator (never taken from
 * the kit itself).
 */
export class TrustedKeys {
  private readonly keys: { key: KeyObject; der: Buffer }[];

  /** Throws `KEY_INVALID` for a text that is not a PEM public key, `KEY_REQUIRED` for none. */
  constructor(pems: readonly string[]) {
    if (pems.length === 0) {
      throw new OfflineKitError(
        'KEY_REQUIRED',
        "no signing public key to check the kit against; pass the air-gapped site's public key with --key <pub.pem>",
      );
    }
    this.keys = pems.map((pem, i) => {
      try {
        const key = createPublicKey(pem);
        return { key, der: key.export({ type: 'spki', format: 'der' }) };
      } catch (cause) {
        throw new OfflineKitError('KEY_INVALID', `key ${i + 1} is not a PEM public key`, { cause });
      }
    });
  }

  /** The trusted key equal to `publicKeyPem`, if any. */
  find(publicKeyPem: string): KeyObject | undefined {
    let der: Buffer;
    try {
      der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
    } catch {
      return undefined;
    }
    return this.keys.find((k) => k.der.equals(der))?.key;
  }
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
 * shape, a payload matching its digest, a public key among `trusted` and a
 * DSSE signature that verifies under it, an in-toto statement of the
 * expected tier and tenant, and a content digest that equals both the
 * manifest entry and the digest recomputed from the statement. Throws
 * `ENVELOPE_INVALID`, `KEY_UNTRUSTED` or `CONTENT_DIGEST_MISMATCH`.
 */
export function checkEnvelope(
  bytes: Buffer,
  expected: ExpectedAttestation,
  trusted: TrustedKeys,
): SignedEnvelope {
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
  // the key the kit names is only a hint: the signature must verify under a key the operator trusts
  const key = trusted.find(signed.publicKeyPem);
  if (key === undefined) {
    throw new OfflineKitError(
      'KEY_UNTRUSTED',
      `${file}: signed by a key that is not among the trusted keys (--key); import only kits signed by the air-gapped site's key`,
      { file },
    );
  }
  let ok = false;
  try {
    const pae = dsse.preAuthEncoding(envelope.payloadType, payload);
    const algorithm = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
    ok = verify(algorithm, pae, key, Buffer.from(sig.sig, 'base64'));
  } catch (cause) {
    bad(file, 'the signature cannot be checked (malformed signature)', cause);
  }
  if (!ok) bad(file, 'the DSSE signature does not verify under the trusted key');

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

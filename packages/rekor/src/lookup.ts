import { createHash } from 'node:crypto';
import type { SignedEnvelope } from '@rekor-budget/core';
import type { RekorApi, RekorV1Answer } from './external/rekor';

/** At most this many candidate entries are fetched for one look-up. */
const MAX_CANDIDATES = 10;

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Whether a v1 entry body (base64 canonical JSON) carries one of these signatures (base64). */
export function bodyCarriesSignature(body: string, signatures: readonly string[]): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64').toString('utf8'));
  } catch {
    return false;
  }
  if (!isRecord(parsed) || !isRecord(parsed.spec)) return false;
  const spec = parsed.spec;
  const wanted = new Set(signatures);
  // dsse v0.0.1: spec.signatures[].signature
  if (Array.isArray(spec.signatures)) {
    return spec.signatures.some(
      (s) => isRecord(s) && typeof s.signature === 'string' && wanted.has(s.signature),
    );
  }
  // intoto v0.0.2: spec.content.envelope.signatures[].sig, base64 of the base64 signature
  const env = isRecord(spec.content) && isRecord(spec.content.envelope) ? spec.content.envelope : undefined;
  if (env && Array.isArray(env.signatures)) {
    return env.signatures.some(
      (s) =>
        isRecord(s) && typeof s.sig === 'string' && wanted.has(Buffer.from(s.sig, 'base64').toString('utf8')),
    );
  }
  return false;
}

/**
 * The log entry of exactly this envelope, if the log holds it: the entries
 * indexed under the payload's sha256 (Rekor v1 indexes dsse and intoto
 * entries by payload hash), fetched one by one until one carries this
 * envelope's signature. Throws what the requests throw.
 */
export async function findEnvelopeV1(
  api: RekorApi,
  signed: SignedEnvelope,
): Promise<RekorV1Answer | undefined> {
  const payloadHash = createHash('sha256')
    .update(Buffer.from(signed.envelope.payload, 'base64'))
    .digest('hex');
  const uuids = await api.searchIndexV1(`sha256:${payloadHash}`);
  const signatures = signed.envelope.signatures.map((s) => s.sig);
  for (const uuid of uuids.slice(0, MAX_CANDIDATES)) {
    const answer = await api.getEntryV1(uuid);
    if (bodyCarriesSignature(answer.entry.body, signatures)) return answer;
  }
  return undefined;
}

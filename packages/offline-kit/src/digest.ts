import { createHash } from 'node:crypto';
import { canonicalJson, type Sha256Digest } from '@rekor-budget/core';

/** `sha256:<hex>` of some bytes. */
export function sha256(data: Buffer | string): Sha256Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * The digest of a JSON document with one field left out (the field that
 * carries the digest): sha256 over the canonical JSON of the rest.
 */
export function documentDigest(doc: Record<string, unknown>, digestField: string): Sha256Digest {
  const { [digestField]: _omit, ...body } = doc;
  return sha256(canonicalJson(body));
}

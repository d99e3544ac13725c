/**
 * The hashes an entry is found by through `POST /api/v1/index/retrieve`, as
 * Rekor v1 indexes them: for `dsse` the payload and envelope hashes, for
 * `intoto` the envelope and payload hashes, for `hashedrekord` the artifact
 * hash; each as `sha256:<lower-case hex>`. (Rekor also indexes public keys,
 * e-mail addresses and statement subjects; rekor-local searches by these
 * hashes only.)
 */
export function indexKeysOf(body: Buffer): string[] {
  let entry: unknown;
  try {
    entry = JSON.parse(body.toString('utf8'));
  } catch {
    return [];
  }
  if (!isRecord(entry) || !isRecord(entry.spec)) return [];
  const spec = entry.spec;
  const hashes: unknown[] = [];
  switch (entry.kind) {
    case 'dsse':
      hashes.push(spec.payloadHash, spec.envelopeHash);
      break;
    case 'intoto':
      if (isRecord(spec.content)) hashes.push(spec.content.hash, spec.content.payloadHash);
      break;
    case 'hashedrekord':
      if (isRecord(spec.data)) hashes.push(spec.data.hash);
      break;
  }
  return hashes.flatMap((h) =>
    isRecord(h) && h.algorithm === 'sha256' && typeof h.value === 'string'
      ? [`sha256:${h.value.toLowerCase()}`]
      : [],
  );
}

/** A search hash as Rekor accepts it: `sha256:<hex>` or bare hex; `undefined` if it is neither. */
export function normalizeSearchHash(hash: string): string | undefined {
  const m = /^(?:sha256:)?([0-9a-fA-F]{64})$/.exec(hash);
  return m ? `sha256:${m[1]!.toLowerCase()}` : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

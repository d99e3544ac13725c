/**
 * RFC 8785 (JCS) canonical JSON for the values rekor-local stores: objects
 * with keys sorted by UTF-16 code units, no whitespace. Entry bodies hold only
 * strings, objects and arrays, so number formatting is JSON.stringify's.
 */
export function canonicalize(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalize).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalize(obj[k])}`);
  return `{${parts.join(',')}}`;
}

import { badRequest } from '../errors';

/** Field readers for proposed entries: each throws a 400 naming the JSON path. */
export function object(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(`${path}: expected an object`);
  }
  return value as Record<string, unknown>;
}

export function string(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw badRequest(`${path}: expected a non-empty string`);
  return value;
}

export function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value) || value.length === 0) throw badRequest(`${path}: expected a non-empty array`);
  return value;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A standard base64 string, decoded; refuses anything that is not base64. */
export function base64(value: unknown, path: string): Buffer {
  const text = string(value, path);
  if (!BASE64.test(text)) throw badRequest(`${path}: expected standard base64`);
  return Buffer.from(text, 'base64');
}

/** A `{algorithm, value}` hash with the given algorithms and a lower-case hex value of the right length. */
export function hash(
  value: unknown,
  path: string,
  algorithms: Record<string, number> = { sha256: 64 },
): { algorithm: string; value: string } {
  const h = object(value, path);
  const algorithm = string(h.algorithm, `${path}.algorithm`);
  const length = algorithms[algorithm];
  if (length === undefined) {
    throw badRequest(`${path}.algorithm: "${algorithm}" is not one of ${Object.keys(algorithms).join(', ')}`);
  }
  const hex = string(h.value, `${path}.value`);
  if (hex.length !== length || !/^[0-9a-fA-F]+$/.test(hex)) {
    throw badRequest(`${path}.value: expected ${length} hex digits`);
  }
  return { algorithm, value: hex.toLowerCase() };
}

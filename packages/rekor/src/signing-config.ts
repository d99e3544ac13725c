import { RekorError } from './error';

/** One service of a SigningConfig (protobuf-specs `Service`). */
export interface SigningService {
  url: string;
  majorApiVersion: number;
  validFor: { start: Date; end?: Date };
  operator?: string;
}

/** The parts of a SigningConfig v0.2 rekor-budget uses. */
export interface SigningConfig {
  rekorTlogUrls: SigningService[];
  tsaUrls: SigningService[];
}

export const SIGNING_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';

/** The Rekor API versions this client speaks. */
export const SUPPORTED_REKOR_VERSIONS: readonly number[] = [1, 2];

/**
 * Reads a SigningConfig v0.2 (protobuf JSON). Anything else is
 * `INVALID_SIGNING_CONFIG`, naming the field.
 */
export function parseSigningConfig(json: unknown): SigningConfig {
  const bad = (why: string) => new RekorError('INVALID_SIGNING_CONFIG', `the signing config ${why}`);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw bad('is not a JSON object');
  const doc = json as Record<string, unknown>;
  if (doc.mediaType !== SIGNING_CONFIG_MEDIA_TYPE) {
    throw bad(`has mediaType ${JSON.stringify(doc.mediaType)}; expected ${SIGNING_CONFIG_MEDIA_TYPE}`);
  }
  const services = (field: 'rekorTlogUrls' | 'tsaUrls'): SigningService[] => {
    const list = doc[field] ?? [];
    if (!Array.isArray(list)) throw bad(`field ${field} is not a list`);
    return list.map((s: unknown, i) => {
      const at = `${field}[${i}]`;
      const o = (s ?? {}) as Record<string, unknown>;
      if (typeof o.url !== 'string' || !/^https?:\/\/[^/]+/.test(o.url))
        throw bad(`${at}.url is not an http(s) URL`);
      if (!Number.isInteger(o.majorApiVersion) || (o.majorApiVersion as number) < 1)
        throw bad(`${at}.majorApiVersion is not a positive whole number`);
      const v = (o.validFor ?? {}) as Record<string, unknown>;
      const start = typeof v.start === 'string' ? new Date(v.start) : undefined;
      if (!start || Number.isNaN(start.getTime())) throw bad(`${at}.validFor.start is not an RFC 3339 time`);
      const end = typeof v.end === 'string' ? new Date(v.end) : undefined;
      if (v.end !== undefined && (!end || Number.isNaN(end.getTime())))
        throw bad(`${at}.validFor.end is not an RFC 3339 time`);
      return {
        url: o.url.replace(/\/+$/, ''),
        majorApiVersion: o.majorApiVersion as number,
        validFor: end ? { start, end } : { start },
        ...(typeof o.operator === 'string' ? { operator: o.operator } : {}),
      };
    });
  };
  return { rekorTlogUrls: services('rekorTlogUrls'), tsaUrls: services('tsaUrls') };
}

/**
 * The services to use, best first, as CLIENTS.md and protobuf-specs describe
 * selection: only those whose validity window holds `now` and whose API
 * version is supported; the highest API version first; within a version,
 * the order of the list (sorted newest to oldest).
 */
export function selectServices(
  services: readonly SigningService[],
  supported: readonly number[],
  now: Date,
): SigningService[] {
  const valid = services.filter(
    (s) =>
      supported.includes(s.majorApiVersion) &&
      s.validFor.start.getTime() <= now.getTime() &&
      (s.validFor.end === undefined || now.getTime() < s.validFor.end.getTime()),
  );
  const best = Math.max(...valid.map((s) => s.majorApiVersion));
  return [
    ...valid.filter((s) => s.majorApiVersion === best),
    ...valid.filter((s) => s.majorApiVersion !== best),
  ];
}

import pg from 'pg';
import {
  describeRedis,
  redactText,
  redactUrl,
  redisLocationKey,
  truncate,
  type RekorConfig,
} from '@rekor-budget/core';

/** A service a command depends on, as the operator knows it. */
interface Service {
  name: 'Postgres' | 'Redis' | 'Rekor';
  /** Where it is, credentials redacted, e.g. `Postgres at postgres://***@db/x`. */
  where: string;
  /** The ports it answers on (a cluster or Sentinel: each node's). */
  ports: (number | undefined)[];
  /** The environment variable that points at it. */
  env: string;
}

function urlService(name: Service['name'], url: string, env: string, defaultPort: number): Service {
  return { name, where: `${name} at ${redactUrl(url)}`, ports: [portOf(url, defaultPort)], env };
}

function redisService(redis: RekorConfig['redis']): Service {
  if (redis.topology === 'single') return urlService('Redis', redis.url, 'REDIS_URL', 6379);
  return {
    name: 'Redis',
    where: describeRedis(redis),
    ports: redis.nodes.map((n) => n.port),
    env: redisLocationKey(redis).env,
  };
}

/** Network errors that mean "the service is not there", by Node's error code. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

interface Failure {
  code?: string;
  port?: number;
  message: string;
  name: string;
}

/** Every error in `e`'s chain: causes and the members of an AggregateError. */
function chain(e: unknown, depth = 0): Failure[] {
  if (!(e instanceof Error) || depth > 5) return [];
  const x = e as Error & { code?: unknown; port?: unknown; cause?: unknown };
  const own: Failure = {
    name: x.name,
    message: x.message,
    ...(typeof x.code === 'string' ? { code: x.code } : {}),
    ...(typeof x.port === 'number' ? { port: x.port } : {}),
  };
  const inner = e instanceof AggregateError ? e.errors : [];
  return [own, ...chain(x.cause, depth + 1), ...inner.flatMap((i: unknown) => chain(i, depth + 1))];
}

function portOf(url: string, fallback: number): number | undefined {
  try {
    const u = new URL(url);
    return u.port === ''
      ? u.protocol === 'https:'
        ? 443
        : u.protocol === 'http:'
          ? 80
          : fallback
      : Number(u.port);
  } catch {
    return undefined;
  }
}

/** Postgres codes of a database that was never migrated: undefined table, undefined schema. */
const MIGRATE_CODES = new Set(['42P01', '3F000']);
/** Postgres code of a database that does not exist. */
export const MISSING_DATABASE = '3D000';

/** What to say when the configured database does not exist on a Postgres that answers. */
export function missingDatabase(url: string): string {
  let name = '<name>';
  try {
    name = decodeURIComponent(new URL(url).pathname.slice(1)) || name;
  } catch {
    // the URL was validated by the configuration; keep the placeholder
  }
  return `database "${name}" does not exist on ${redactUrl(url)}; create it with \`rekor-budget migrate --create-database\` (or \`createdb ${name}\`), or set DATABASE_URL to an existing database`;
}

/**
 * A Postgres that answers but lacks what the command needs: the database
 * itself, or the attestor schema. One line with the fix, and its code.
 */
export function setupFailure(
  error: unknown,
  config: RekorConfig | undefined,
): { text: string; code: 'DATABASE_MISSING' | 'SCHEMA_MISSING' } | undefined {
  let cause: unknown = error;
  for (let depth = 0; depth < 5 && !(cause instanceof pg.DatabaseError) && cause instanceof Error; depth++)
    cause = cause.cause;
  if (!(cause instanceof pg.DatabaseError) || config === undefined) return undefined;
  const e = cause;
  if (e.code === MISSING_DATABASE)
    return { text: missingDatabase(config.database.url), code: 'DATABASE_MISSING' };
  if (MIGRATE_CODES.has(e.code ?? '')) {
    return {
      text: `the attestor schema is missing in ${redactUrl(config.database.url)} (${truncate(redactText(e.message))}); run \`rekor-budget migrate\` (or \`npm start\`) against this database first`,
      code: 'SCHEMA_MISSING',
    };
  }
  return undefined;
}

/**
 * A failure of Postgres, Redis or Rekor that reached the top of a command as
 * an error no package mapped, told in one line: which service, where
 * (credentials redacted), what it answered, and what to do. `undefined` when
 * the error is not a service's.
 */
export function serviceFailure(e: unknown, config: RekorConfig | undefined): string | undefined {
  const services: Service[] = config
    ? [
        urlService('Postgres', config.database.url, 'DATABASE_URL', 5432),
        redisService(config.redis),
        urlService('Rekor', config.serverUrl, 'REKOR_URL', 443),
      ]
    : [];
  const failures = chain(e);
  const byName = (name: Service['name']) => services.find((s) => s.name === name);
  let service: Service | undefined;
  let why: string | undefined;
  if (e instanceof pg.DatabaseError) {
    service = byName('Postgres');
    why = `it answered ${e.code ?? 'an error'}: ${e.message}`;
  } else if (
    failures.some((f) => f.name === 'MaxRetriesPerRequestError' || /^Connection is closed/.test(f.message))
  ) {
    service = byName('Redis');
    why = 'it does not answer';
  } else {
    const net = failures.find((f) => f.code !== undefined && NETWORK_CODES.has(f.code));
    if (net) {
      why = `${net.code}`;
      service = services.find((s) => net.port !== undefined && s.ports.includes(net.port));
      // no port to match (a DNS failure): Postgres is the usual one a command reaches unwrapped
      service ??= net.port === undefined ? byName('Postgres') : undefined;
    } else if (failures.some((f) => /Connection terminated|terminating connection/.test(f.message))) {
      service = byName('Postgres');
      why = 'the connection was closed';
    }
  }
  if (service === undefined || why === undefined) return undefined;
  return `${service.where} is unavailable (${truncate(redactText(why))}); start it, or set ${service.env} to where it runs`;
}

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors';
import { formatPath } from '../path';
import { echo, isSecretKey, REDACTED, redactValue, truncate } from '../redact';
import { fileSchema, type RekorConfig } from './schema';

const ROOT = ['attestor', 'rekor'];

/** Environment variables that override a configuration key. */
export const ENV_OVERRIDES = {
  REDIS_URL: ['redis', 'url'],
  REDIS_CLUSTER_NODES: ['redis', 'cluster', 'nodes'],
  REDIS_SENTINEL_NAME: ['redis', 'sentinel', 'name'],
  REDIS_SENTINEL_NODES: ['redis', 'sentinel', 'nodes'],
  REDIS_SENTINEL_USERNAME: ['redis', 'sentinel', 'username'],
  REDIS_SENTINEL_PASSWORD: ['redis', 'sentinel', 'password'],
  REDIS_USERNAME: ['redis', 'username'],
  REDIS_PASSWORD: ['redis', 'password'],
  REDIS_PREFIX: ['redis', 'keyPrefix'],
  DATABASE_URL: ['database', 'url'],
  REKOR_URL: ['serverUrl'],
  SIGNING_KEY: ['signing', 'keyPath'],
  DASHBOARD_USER: ['dashboard', 'user'],
  DASHBOARD_PASSWORD: ['dashboard', 'password'],
  METRICS_USER: ['metrics', 'user'],
  METRICS_PASSWORD: ['metrics', 'password'],
  METRICS_TOKEN: ['metrics', 'token'],
  METRICS_PORT: ['metrics', 'port'],
  DASHBOARD_PORT: ['dashboard', 'port'],
} as const satisfies Record<string, readonly string[]>;

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** `--config <file>`; without it `./attestor.yaml` if present, else defaults. */
  file?: string;
  /** Directory for the `attestor.yaml` look-up. */
  cwd: string;
  /** The environment to take overrides from (the app passes `process.env`). */
  env: Env;
}

export interface LoadedConfig {
  config: RekorConfig;
  /** The file read, or `defaults`. */
  source: string;
}

/** Loads, overrides from the environment, and validates the configuration. */
export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  let file = options.file === undefined ? undefined : resolve(options.cwd, options.file);
  if (file === undefined) {
    const candidate = resolve(options.cwd, 'attestor.yaml');
    if (existsSync(candidate)) file = candidate;
  }
  if (file === undefined) {
    return { config: parseConfigObject({}, { source: 'defaults', env: options.env }), source: 'defaults' };
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    throw new ConfigError(
      'CONFIG_UNREADABLE',
      file,
      [
        {
          path: file,
          message: `${file} ${reason}; pass an existing file to --config, or omit --config to use ./attestor.yaml or the defaults`,
        },
      ],
      { cause },
    );
  }
  return { config: parseConfigText(text, { source: file, env: options.env }), source: file };
}

/** Parses YAML text into a validated configuration. */
export function parseConfigText(text: string, options: { source: string; env?: Env }): RekorConfig {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      'CONFIG_UNREADABLE',
      options.source,
      doc.errors.map((e) => ({
        path: options.source,
        message: `${options.source}: not valid YAML (${e.message.split('\n')[0]}); fix the syntax at that line`,
      })),
    );
  }
  let raw: unknown;
  try {
    // yaml refuses documents whose aliases would expand without bound ("billion laughs")
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (cause) {
    throw new ConfigError(
      'CONFIG_UNREADABLE',
      options.source,
      [
        {
          path: options.source,
          message: `${options.source}: not a usable YAML document (${truncate(cause instanceof Error ? cause.message : String(cause))}); write the keys out instead of repeating aliases`,
        },
      ],
      { cause },
    );
  }
  return parseConfigObject(raw, options);
}

/** Validates an already-parsed configuration object (the YAML document root). */
export function parseConfigObject(raw: unknown, options: { source: string; env?: Env }): RekorConfig {
  const envPaths = new Map<string, string>();
  const input = applyEnv(raw, options.env ?? {}, envPaths);
  const result = fileSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.flatMap((i) => describeIssue(i, input, envPaths));
    throw new ConfigError('CONFIG_INVALID', options.source, issues);
  }
  return result.data.attestor.rekor;
}

function applyEnv(raw: unknown, env: Env, envPaths: Map<string, string>): unknown {
  const entries = Object.entries(ENV_OVERRIDES).filter(([name]) => {
    const v = env[name];
    return v !== undefined && v !== '';
  });
  if (entries.length === 0 || !isPlainObject(raw)) return raw;
  const copy = structuredClone(raw) as Record<string, unknown>;
  for (const [name, rel] of entries) {
    const path = [...ROOT, ...rel];
    let node: Record<string, unknown> = copy;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === undefined || next === null) node[key] = {};
      else if (!isPlainObject(next)) break;
      node = node[key] as Record<string, unknown>;
    }
    const value = env[name]!;
    const last = path[path.length - 1]!;
    // a port is a number in the file; a node list (REDIS_CLUSTER_NODES) a list
    node[last] =
      last === 'port' && /^\d+$/.test(value)
        ? Number(value)
        : last === 'nodes'
          ? value.split(',').map((s) => s.trim())
          : value;
    envPaths.set(formatPath(path), name);
  }
  return copy;
}

// ---------------------------------------------------------------- messages

function describeIssue(issue: z.ZodIssue, input: unknown, envPaths: Map<string, string>): ConfigIssue[] {
  if (issue.code === z.ZodIssueCode.unrecognized_keys) {
    const valid = validKeysAt(issue.path);
    return issue.keys.map((key) => {
      const path = formatPath([...issue.path, key]);
      const near = nearest(key, valid);
      const hint = near ? `did you mean "${truncate(near)}"?` : 'remove it or fix its spelling';
      // a misspelled secret is still a secret: judged by the key and by the key it was meant to be
      const secret = isSecretKey(key) || (near !== undefined && isSecretKey(near));
      const value = secret ? REDACTED : shownValue(valueAt(input, [...issue.path, key]));
      return {
        path: truncate(path),
        value,
        message: `${truncate(path)}: ${secret ? REDACTED : echo(value)} is under an unknown key; ${hint} (valid keys here: ${valid.join(', ')})`,
      };
    });
  }
  const path = formatPath(issue.path);
  const raw = valueAt(input, issue.path);
  const secret = raw !== undefined && issue.path.some((k) => typeof k === 'string' && isSecretKey(k));
  const value = secret ? REDACTED : shownValue(raw);
  // an item of a list set from the environment (REDIS_CLUSTER_NODES) names the variable too
  const env =
    envPaths.get(path) ??
    [...envPaths].find(([p]) => path.startsWith(`${p}.`) || path.startsWith(`${p}[`))?.[1];
  const where = env ? `${path} (from ${env})` : path;
  const shown = raw === undefined ? 'missing value' : secret ? REDACTED : echo(raw);
  return [{ path, value, message: `${where}: ${shown} ${issue.message}` }];
}

/** A value as an issue keeps it: secrets redacted, as the message shows it through `echo`. */
function shownValue(value: unknown): unknown {
  return redactValue(value);
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The keys the schema accepts for the object at `path`. */
function validKeysAt(path: readonly (string | number)[]): string[] {
  let schema: z.ZodTypeAny = fileSchema;
  for (const key of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject)
      schema = (schema.shape as Record<string, z.ZodTypeAny>)[key as string] ?? z.never();
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodTypeAny;
    else return [];
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape as object) : [];
}

/** The schema under defaults, optionals, refinements and transforms. */
function unwrap(schema: z.ZodTypeAny): z.ZodTypeAny {
  for (;;) {
    if (schema instanceof z.ZodDefault) schema = schema.removeDefault();
    else if (schema instanceof z.ZodOptional) schema = schema.unwrap();
    else if (schema instanceof z.ZodEffects) schema = schema.innerType();
    else return schema;
  }
}

/** The valid key closest to `key` (case-insensitive edit distance), if close enough. */
function nearest(key: string, valid: readonly string[]): string | undefined {
  if (valid.length === 0) return undefined;
  const target = key.toLowerCase();
  const lowered = valid.map((v) => v.toLowerCase());
  const i = lowered.indexOf(closest(target, lowered));
  const best = valid[i]!;
  return distance(target, lowered[i]!) <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

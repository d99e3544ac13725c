import { RekorLocalError } from './errors';
import type { FaultSpec } from './faults';

/** Options of `startRekorLocal`. */
export interface RekorLocalOptions {
  /** Directory of the log: key, `log.json`, `entries.jsonl`. Created if missing. */
  dataDir: string;
  /** TCP port; 0 picks a free one. @defaultValue 0 */
  port?: number;
  /** Address to listen on. @defaultValue '127.0.0.1' */
  host?: string;
  /** Largest request body accepted; larger ones get 413. @defaultValue 131072 (128 KiB) */
  bodyLimitBytes?: number;
  /** Enables fault injection (`true`), optionally starting with a fault. @defaultValue false */
  faults?: boolean | FaultSpec;
  /**
   * Port of a separate admin listener serving only `/admin/faults`, which
   * stays up while the `offline` fault has the API listener down. Unset: no
   * admin listener (the API listener serves `/admin/faults` while it is up,
   * and the returned handle can always clear a fault).
   */
  adminPort?: number;
  /** fdatasync each write batch before answering. @defaultValue true */
  fsync?: boolean;
  /** Base URL named in the trusted root, if clients reach the log by another address. @defaultValue the listening URL */
  publicUrl?: string;
  /** Checkpoint signer name of a new log (kept after). @defaultValue the host of `publicUrl` */
  name?: string;
  /** Clock, Unix milliseconds (integrated times). @defaultValue Date.now */
  now?: () => number;
  /**
   * Which Rekor API to serve: `v1` (Rekor v1 only), `v2` (exactly what
   * rekor-tiles serves: `POST /api/v2/log/entries` and the tlog-tiles read API;
   * every `/api/v1/log*` path answers 404), or `both`. @defaultValue 'both'
   */
  api?: RekorApiMode;
}

/** The APIs a rekor-local serves. */
export type RekorApiMode = 'v1' | 'v2' | 'both';

export const API_MODES: readonly RekorApiMode[] = ['v1', 'v2', 'both'];

export type ResolvedOptions = Required<
  Omit<RekorLocalOptions, 'adminPort' | 'publicUrl' | 'name' | 'faults'>
> &
  Pick<RekorLocalOptions, 'adminPort' | 'publicUrl' | 'name'> & { faults: FaultSpec | boolean };

/**
 * 256 KiB: admits the request of every entry kind (intoto carries the payload
 * base64 twice) for statements up to 100 KiB, the default and public Rekor's
 * `maxPayloadBytes`, so a statement the producer accepts is never a 413 here.
 */
export const DEFAULT_BODY_LIMIT_BYTES = 256 * 1024;

/** Applies defaults and checks every option once, naming the bad one. */
export function resolveOptions(options: RekorLocalOptions): ResolvedOptions {
  const o: ResolvedOptions = {
    port: 0,
    host: '127.0.0.1',
    bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES,
    fsync: true,
    now: Date.now,
    api: 'both',
    ...stripUndefined(options),
    dataDir: options.dataDir,
    faults: options.faults ?? false,
  };
  const fail = (name: string, why: string) => {
    throw new RekorLocalError('INVALID_OPTIONS', `rekor-local option ${name}: ${why}`);
  };
  if (typeof o.dataDir !== 'string' || o.dataDir === '') fail('dataDir', 'a directory path is required');
  for (const name of ['port', 'adminPort'] as const) {
    const v = o[name];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 65535))
      fail(name, `${v} is not a port (0-65535)`);
  }
  if (!Number.isInteger(o.bodyLimitBytes) || o.bodyLimitBytes < 1024) {
    fail('bodyLimitBytes', `${o.bodyLimitBytes} must be a whole number >= 1024`);
  }
  if (!API_MODES.includes(o.api)) fail('api', `${String(o.api)} is not one of ${API_MODES.join(', ')}`);
  if (o.publicUrl !== undefined && !/^https?:\/\/[^/]+/.test(o.publicUrl))
    fail('publicUrl', 'must be an http(s) URL');
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

import { performance } from 'node:perf_hooks';
import { transportCode } from './classify';
import { RekorError } from './error';
import { HTTPError, HttpTimeoutError } from './external/http';
import type { TimestampClient } from './external/tsa';
import type { RekorApi } from './external/rekor';
import { openCheckpoint, type TrustedLog } from './checkpoint';

export interface RekorProbeOptions {
  /** How long to wait for the whole answer, in ms. @defaultValue 2000 */
  timeoutMs?: number;
}

/** Whether the log answers, as `client.probe()` found it. */
export interface RekorProbeResult {
  /** The log answered `GET /api/v1/log` with its log info (v2: a `/checkpoint` signed by a trusted log). */
  reachable: boolean;
  /**
   * One line for people: `tree size 12` when reachable; else `HTTP 503`,
   * `ECONNREFUSED`, `no answer within 2000 ms`, `HTTP 200, not Rekor log info`, …
   */
  detail: string;
  /** Entries in the log, when it answered. */
  treeSize?: number;
  /** From sending the request to its answer or failure, whole ms. */
  latencyMs: number;
}

/** Whether the timestamp authority grants timestamps, as `client.probeTimestampAuthority()` found it. */
export interface TimestampProbeResult {
  /** It answered the probe's request with a granted timestamp. */
  reachable: boolean;
  /** The timestamp authority's endpoint. */
  url: string;
  /** One line for people: `granted`; else `HTTP 503`, `ECONNREFUSED`, a refusal's status, … */
  detail: string;
  /** From sending the request to its answer or failure, whole ms. */
  latencyMs: number;
}

/** The probe's timeout when none is given. */
export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;

/** Why a request to the log failed, in a few words: the status, the timeout or the error code. */
export function failureDetail(err: unknown): string {
  if (err instanceof HTTPError) return `HTTP ${err.status}`;
  if (err instanceof HttpTimeoutError) return `no answer within ${err.timeoutMs} ms`;
  if (err instanceof RekorError && err.code === 'INVALID_RESPONSE') {
    return `HTTP ${err.status ?? '2xx'}, not Rekor log info`;
  }
  const { code } = transportCode(err);
  if (code !== 'UNKNOWN') return code;
  return err instanceof Error ? err.message : String(err);
}

/** A probe's timeout (checked) and a stopwatch started now (whole ms). */
function startProbe(options: RekorProbeOptions): { timeoutMs: number; latencyMs: () => number } {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new RekorError('INVALID_OPTIONS', `probe timeoutMs ${timeoutMs} is not a positive whole number`);
  }
  const started = performance.now();
  return { timeoutMs, latencyMs: () => Math.round(performance.now() - started) };
}

/**
 * `GET /api/v1/log` once; never throws for network or HTTP conditions. A
 * 2xx answer that is not log info (a proxy's page, say) is not reachable.
 */
export async function probeLog(
  api: RekorApi,
  options: RekorProbeOptions = {},
  v2?: { logs: readonly TrustedLog[] | undefined },
): Promise<RekorProbeResult> {
  const { timeoutMs, latencyMs } = startProbe(options);
  if (v2 !== undefined) return probeCheckpoint(api, timeoutMs, v2.logs, latencyMs);
  try {
    const { treeSize } = await api.logInfoV1(timeoutMs);
    return { reachable: true, detail: `tree size ${treeSize}`, treeSize, latencyMs: latencyMs() };
  } catch (err) {
    return { reachable: false, detail: failureDetail(err), latencyMs: latencyMs() };
  }
}

/** The text the timestamp authority probe asks a timestamp for. */
const TSA_PROBE_TEXT = Buffer.from('rekor-budget timestamp authority probe');

/**
 * One timestamp request for a fixed text; never throws for network or HTTP
 * conditions. Only a granted timestamp counts: a TSA that answers but refuses
 * would refuse the submissions too.
 */
export async function probeTimestamp(
  tsa: TimestampClient,
  options: RekorProbeOptions = {},
): Promise<TimestampProbeResult> {
  const { timeoutMs, latencyMs } = startProbe(options);
  try {
    await tsa.timestamp(TSA_PROBE_TEXT, timeoutMs);
    return { reachable: true, url: tsa.url, detail: 'granted', latencyMs: latencyMs() };
  } catch (err) {
    // a refusal or a reply that is not a timestamp says so in its message
    const detail =
      err instanceof RekorError && err.code === 'INVALID_RESPONSE' ? err.message : failureDetail(err);
    return { reachable: false, url: tsa.url, detail, latencyMs: latencyMs() };
  }
}

/**
 * Rekor v2 (tlog-tiles) has no log info: the probe reads `/checkpoint` and
 * checks its signed note against the trusted root's logs. A checkpoint no
 * trusted log signed is not reachable (a stranger answers at that URL).
 * Without a trusted root the note is only parsed, and the detail says so.
 */
async function probeCheckpoint(
  api: RekorApi,
  timeoutMs: number,
  logs: readonly TrustedLog[] | undefined,
  latencyMs: () => number,
): Promise<RekorProbeResult> {
  let note: string;
  try {
    note = await api.checkpoint(timeoutMs);
  } catch (err) {
    return { reachable: false, detail: failureDetail(err), latencyMs: latencyMs() };
  }
  try {
    const cp = openCheckpoint(note, logs);
    const how = cp.log ? 'checkpoint verified' : 'checkpoint not verified: no trustedRoot configured';
    return {
      reachable: true,
      detail: `tree size ${cp.size}, ${how}`,
      treeSize: cp.size,
      latencyMs: latencyMs(),
    };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { reachable: false, detail: `HTTP 200, ${why}`, latencyMs: latencyMs() };
  }
}

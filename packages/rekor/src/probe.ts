import { performance } from 'node:perf_hooks';
import { transportCode } from './classify';
import { RekorError } from './error';
import { HTTPError, HttpTimeoutError } from './external/http';
import type { RekorApi } from './external/rekor';

export interface RekorProbeOptions {
  /** How long to wait for the whole answer, in ms. @defaultValue 2000 */
  timeoutMs?: number;
}

/** Whether the log answers, as `client.probe()` found it. */
export interface RekorProbeResult {
  /** The log answered `GET /api/v1/log` with its log info. */
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

/**
 * `GET /api/v1/log` once; never throws for network or HTTP conditions. A
 * 2xx answer that is not log info (a proxy's page, say) is not reachable.
 */
export async function probeLog(api: RekorApi, options: RekorProbeOptions = {}): Promise<RekorProbeResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new RekorError('INVALID_OPTIONS', `probe timeoutMs ${timeoutMs} is not a positive whole number`);
  }
  const started = performance.now();
  const latencyMs = () => Math.round(performance.now() - started);
  try {
    const { treeSize } = await api.logInfoV1(timeoutMs);
    return { reachable: true, detail: `tree size ${treeSize}`, treeSize, latencyMs: latencyMs() };
  } catch (err) {
    return { reachable: false, detail: failureDetail(err), latencyMs: latencyMs() };
  }
}

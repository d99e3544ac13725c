import { entryRef, tlogEntryFromV1, tlogEntryFromV2, toBundleJson } from './bundle';
import { classifyFailure } from './classify';
import { dsseEntryV1, dsseRequestV2, intotoEntryV1 } from './entries';
import type { SignedEnvelope } from '@rekor-budget/core';
import { assertSignedEnvelope } from './envelope';
import { RekorError } from './error';
import { HTTPError, HttpTransport } from './external/http';
import { RekorApi, type RekorLogInfo, type RekorV1Answer } from './external/rekor';
import { findEnvelopeV1 } from './lookup';
import type { SubmitOutcome } from './outcome';
import { failureDetail, probeLog, type RekorProbeOptions, type RekorProbeResult } from './probe';
import type { RekorConfig } from '@rekor-budget/core';

export interface RekorClientOptions {
  /** Base URL of the log, e.g. `http://127.0.0.1:3001`. */
  serverUrl: string;
  /** Rekor API version. @defaultValue 1 */
  apiVersion?: 1 | 2;
  /** Entry kind for v1 (`dsse` v0.0.1 or `intoto` v0.0.2). @defaultValue 'dsse' */
  entryKind?: 'dsse' | 'intoto';
  /** Timeout of one HTTP request, answer body included. @defaultValue 30 000 */
  requestTimeoutMs?: number;
  /** Clock for `Retry-After` dates. @defaultValue Date.now */
  now?: () => number;
}

/** Sends signed envelopes to one Rekor log. One request per call: no retries inside. */
export interface RekorClient {
  /** The log's URL as recorded in receipts. */
  readonly logUrl: string;
  /** Sends the envelope once; never throws for Rekor or network conditions. */
  submit(envelope: SignedEnvelope): Promise<SubmitOutcome>;
  /**
   * Looks for exactly this envelope in the log without sending it: before a
   * content whose earlier POST may have reached the log is sent again. A
   * `duplicate` outcome (entry and bundle) when the log holds it; `undefined`
   * when it does not, when the API version has no search (v2), or when the
   * look-up failed (`onError` hears why). Never throws.
   */
  lookup(envelope: SignedEnvelope, onError?: (err: unknown) => void): Promise<SubmitOutcome | undefined>;
  /**
   * Asks the log once (`GET /api/v1/log`) whether it answers; never throws for
   * network or HTTP conditions. `detail` says what happened, e.g. `tree size 12`,
   * `HTTP 503`, `ECONNREFUSED`, `no answer within 2000 ms`.
   */
  probe(options?: RekorProbeOptions): Promise<RekorProbeResult>;
  /**
   * `GET /api/v1/log`: tree size, root hash, signed tree head. Throws
   * `LOG_UNAVAILABLE` when the log does not answer (`status` for an HTTP error)
   * and `INVALID_RESPONSE` for an answer that is not log info. To ask whether
   * the log is up, use `probe()`.
   */
  logInfo(): Promise<RekorLogInfo>;
  /** Closes the client's connections. */
  close(): void;
}

/** The client options of a loaded configuration (`attestor.rekor`). */
export function clientOptionsFromConfig(
  config: Pick<RekorConfig, 'serverUrl' | 'apiVersion' | 'entryKind' | 'requestTimeoutMs'>,
): RekorClientOptions {
  return {
    serverUrl: config.serverUrl,
    apiVersion: config.apiVersion,
    entryKind: config.entryKind,
    requestTimeoutMs: config.requestTimeoutMs,
  };
}

export function createRekorClient(options: RekorClientOptions): RekorClient {
  const apiVersion = options.apiVersion ?? 1;
  const entryKind = options.entryKind ?? 'dsse';
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const now = options.now ?? Date.now;
  let url: URL;
  try {
    url = new URL(options.serverUrl);
  } catch (cause) {
    throw new RekorError('INVALID_OPTIONS', `serverUrl ${JSON.stringify(options.serverUrl)} is not a URL`, {
      cause,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RekorError('INVALID_OPTIONS', `serverUrl ${options.serverUrl} is not an http(s) URL`);
  }
  if (apiVersion !== 1 && apiVersion !== 2) {
    throw new RekorError('INVALID_OPTIONS', `apiVersion ${String(apiVersion)} is not 1 or 2`);
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new RekorError('INVALID_OPTIONS', `requestTimeoutMs ${timeoutMs} is not a positive whole number`);
  }
  const logUrl = options.serverUrl.replace(/\/+$/, '');
  const http = new HttpTransport();
  const api = new RekorApi(http, logUrl, timeoutMs);

  function fromV1(
    kind: 'created' | 'duplicate',
    signed: SignedEnvelope,
    answer: RekorV1Answer,
  ): SubmitOutcome {
    const tlog = tlogEntryFromV1(answer.entry, answer.status);
    return {
      kind,
      logUrl,
      entry: entryRef(tlog, answer.entry.uuid, now()),
      bundle: toBundleJson(signed, tlog),
    };
  }

  async function submitV1(signed: SignedEnvelope): Promise<SubmitOutcome> {
    const proposed = entryKind === 'intoto' ? intotoEntryV1(signed) : dsseEntryV1(signed);
    try {
      return fromV1('created', signed, await api.createEntryV1(proposed));
    } catch (err) {
      if (!(err instanceof HTTPError) || err.status !== 409) return classifyFailure(err, logUrl, 1, now());
      const uuid = err.location?.split('/').pop();
      if (!uuid) {
        return {
          kind: 'rejected',
          logUrl,
          status: 409,
          message: 'Rekor answered 409 without the entry location',
        };
      }
      try {
        return fromV1('duplicate', signed, await api.getEntryV1(uuid));
      } catch (fetchErr) {
        // Rekor has the entry (409): whatever the GET met, the POST reached the
        // log, so this is never `unreachable` (which would refund the unit)
        const failure = classifyFailure(fetchErr, logUrl, 1, now());
        if (failure.kind !== 'unreachable') return failure;
        return {
          kind: 'retryable',
          logUrl,
          code: failure.code,
          message: `Rekor has the entry (409) but fetching it failed: ${failure.message}`,
        };
      }
    }
  }

  async function submitV2(signed: SignedEnvelope): Promise<SubmitOutcome> {
    const request = dsseRequestV2(signed);
    try {
      const res = await api.createEntryV2(request);
      const tlog = tlogEntryFromV2(res.body, res.status);
      return {
        kind: res.status === 200 ? 'duplicate' : 'created',
        logUrl,
        entry: entryRef(tlog, undefined, now()),
        bundle: toBundleJson(signed, tlog),
      };
    } catch (err) {
      return classifyFailure(err, logUrl, 2, now());
    }
  }

  return {
    logUrl,
    async submit(signed) {
      assertSignedEnvelope(signed);
      return apiVersion === 2 ? submitV2(signed) : submitV1(signed);
    },
    async lookup(signed, onError) {
      if (apiVersion !== 1) return undefined;
      try {
        const answer = await findEnvelopeV1(api, signed);
        return answer && fromV1('duplicate', signed, answer);
      } catch (err) {
        onError?.(err);
        return undefined;
      }
    },
    probe: (probeOptions) => probeLog(api, probeOptions),
    async logInfo() {
      try {
        return await api.logInfoV1();
      } catch (err) {
        if (err instanceof RekorError) throw err;
        throw new RekorError(
          'LOG_UNAVAILABLE',
          `the log at ${logUrl} did not answer GET /api/v1/log (${failureDetail(err)}); check attestor.rekor.serverUrl and that the log is up`,
          { cause: err, ...(err instanceof HTTPError ? { status: err.status } : {}) },
        );
      }
    },
    close: () => http.close(),
  };
}

import { entryRef, tlogEntryFromV1, tlogEntryFromV2, toBundleJson } from './bundle';
import { classifyFailure, transportCode } from './classify';
import { dsseEntryV1, dsseRequestV2, intotoEntryV1 } from './entries';
import type { SignedEnvelope } from '@rekor-budget/core';
import { assertSignedEnvelope } from './envelope';
import { RekorError } from './error';
import { HTTPError, HttpTransport } from './external/http';
import { RekorApi, type RekorLogInfo, type RekorV1Answer } from './external/rekor';
import { findEnvelopeV1 } from './lookup';
import type { SubmitOutcome } from './outcome';
import {
  failureDetail,
  probeLog,
  probeTimestamp,
  type RekorProbeOptions,
  type RekorProbeResult,
  type TimestampProbeResult,
} from './probe';
import type { RekorConfig } from '@rekor-budget/core';
import type { TransparencyLogEntry as TLogEntry } from '@sigstore/bundle';
import { createHash } from 'node:crypto';
import { openCheckpoint, trustedLogs } from './checkpoint';
import { TimestampClient } from './external/tsa';
import { entryFromTiles } from './tiles';

/**
 * A failure of the timestamp authority, which comes before anything is sent
 * to the log: never read as the log's answer (a TSA 4xx does not reject the
 * entry, its 429 does not pause the log, its 405 is no frozen shard).
 */
function tsaFailure(err: unknown, logUrl: string, tsaUrl: string): SubmitOutcome {
  if (err instanceof HTTPError) {
    const detail = err.serverMessage ? `: ${err.serverMessage}` : '';
    return {
      kind: 'timestamp_failed',
      logUrl,
      tsaUrl,
      status: err.status,
      message: `the timestamp authority at ${tsaUrl} answered HTTP ${err.status}${detail}`,
    };
  }
  const { code } = transportCode(err);
  return {
    kind: 'timestamp_failed',
    logUrl,
    tsaUrl,
    code,
    message:
      code === 'UNKNOWN'
        ? `the timestamp authority at ${tsaUrl} failed: ${err instanceof Error ? err.message : String(err)}`
        : `the timestamp authority at ${tsaUrl} did not answer (${code})`,
  };
}

/** A v2 entry read back must be this envelope's: its payload hash is the payload's. */
function checkBodyIsEnvelope(body: Buffer, signed: SignedEnvelope): void {
  const expected = createHash('sha256')
    .update(Buffer.from(signed.envelope.payload, 'base64'))
    .digest('base64');
  let found: unknown;
  try {
    found = (
      JSON.parse(body.toString('utf8')) as { spec?: { dsseV002?: { payloadHash?: { digest?: unknown } } } }
    ).spec?.dsseV002?.payloadHash?.digest;
  } catch {
    found = undefined;
  }
  if (found !== expected) {
    throw new RekorError('INVALID_RESPONSE', 'the entry Rekor v2 named as a duplicate is not this envelope');
  }
}

export interface RekorClientOptions {
  /** Base URL of the log, e.g. `http://127.0.0.1:3001`. */
  serverUrl: string;
  /** Rekor API version. @defaultValue 1 */
  apiVersion?: 1 | 2;
  /** Entry kind for v1 (`dsse` v0.0.1 or `intoto` v0.0.2). @defaultValue 'dsse' */
  entryKind?: 'dsse' | 'intoto';
  /** Timeout of one HTTP request, answer body included. @defaultValue 30 000 */
  requestTimeoutMs?: number;
  /**
   * Timeout of a Rekor v2 write, which blocks until a checkpoint includes the
   * entry (CLIENTS.md: at least 20 s). @defaultValue the larger of requestTimeoutMs and 20 000
   */
  v2WriteTimeoutMs?: number;
  /**
   * The sigstore TrustedRoot (protobuf JSON) naming the log: the v2 probe
   * checks `/checkpoint` against it, and a v2 duplicate's entry is read back
   * from tiles under a checkpoint it verifies. @defaultValue none
   */
  trustedRoot?: unknown;
  /**
   * RFC 3161 timestamp authority endpoint (e.g. `https://timestamp.sigstore.dev/api/v1/timestamp`):
   * every bundle then carries a timestamp of the signature. Rekor v2 gives no
   * signed entry timestamp, so v2 bundles need one to verify. @defaultValue none
   */
  timestampAuthorityUrl?: string;
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
   * Asks the timestamp authority once for a timestamp of a fixed text; never
   * throws for network or HTTP conditions. `undefined` when bundles carry no
   * timestamp (no `timestampAuthorityUrl`).
   */
  probeTimestampAuthority(options?: RekorProbeOptions): Promise<TimestampProbeResult | undefined>;
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
  config: Pick<
    RekorConfig,
    'serverUrl' | 'apiVersion' | 'entryKind' | 'requestTimeoutMs' | 'v2WriteTimeoutMs' | 'timestampAuthority'
  >,
): RekorClientOptions {
  return {
    serverUrl: config.serverUrl,
    apiVersion: config.apiVersion,
    entryKind: config.entryKind,
    requestTimeoutMs: config.requestTimeoutMs,
    v2WriteTimeoutMs: config.v2WriteTimeoutMs,
    ...(config.timestampAuthority.url === undefined
      ? {}
      : { timestampAuthorityUrl: config.timestampAuthority.url }),
  };
}

/** Rekor v2 writes wait for a checkpoint: CLIENTS.md asks clients to allow at least this long. */
export const MIN_V2_WRITE_TIMEOUT_MS = 20_000;

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
  const v2WriteTimeoutMs = options.v2WriteTimeoutMs ?? Math.max(timeoutMs, MIN_V2_WRITE_TIMEOUT_MS);
  if (!Number.isInteger(v2WriteTimeoutMs) || v2WriteTimeoutMs < MIN_V2_WRITE_TIMEOUT_MS) {
    throw new RekorError(
      'INVALID_OPTIONS',
      `v2WriteTimeoutMs ${v2WriteTimeoutMs} is below ${MIN_V2_WRITE_TIMEOUT_MS}: a Rekor v2 write waits for a checkpoint`,
    );
  }
  const logs = options.trustedRoot === undefined ? undefined : trustedLogs(options.trustedRoot);
  const logUrl = options.serverUrl.replace(/\/+$/, '');
  const http = new HttpTransport();
  const api = new RekorApi(http, logUrl, timeoutMs);
  const tsa =
    options.timestampAuthorityUrl === undefined
      ? undefined
      : new TimestampClient(http, options.timestampAuthorityUrl, timeoutMs);

  /** The timestamps a bundle carries: one from the TSA, when there is one. */
  async function timestamps(signed: SignedEnvelope): Promise<Buffer[]> {
    if (!tsa) return [];
    return [await tsa.timestamp(Buffer.from(signed.envelope.signatures[0].sig, 'base64'))];
  }

  function fromV1(
    kind: 'created' | 'duplicate',
    signed: SignedEnvelope,
    answer: RekorV1Answer,
    stamps: Buffer[],
  ): SubmitOutcome {
    const tlog = tlogEntryFromV1(answer.entry, answer.status);
    return {
      kind,
      logUrl,
      entry: entryRef(tlog, answer.entry.uuid, now()),
      bundle: toBundleJson(signed, tlog, stamps),
    };
  }

  async function submitV1(signed: SignedEnvelope, stamps: Buffer[]): Promise<SubmitOutcome> {
    const proposed = entryKind === 'intoto' ? intotoEntryV1(signed) : dsseEntryV1(signed);
    try {
      return fromV1('created', signed, await api.createEntryV1(proposed), stamps);
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
        return fromV1('duplicate', signed, await api.getEntryV1(uuid), stamps);
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

  async function submitV2(signed: SignedEnvelope, stamps: Buffer[]): Promise<SubmitOutcome> {
    const request = dsseRequestV2(signed);
    try {
      let kind: 'created' | 'duplicate' = 'created';
      let tlog;
      try {
        const res = await api.createEntryV2(request, v2WriteTimeoutMs);
        tlog = tlogEntryFromV2(res.body, res.status);
        if (res.status === 200) kind = 'duplicate';
      } catch (err) {
        if (!(err instanceof HTTPError) || err.status !== 409) throw err;
        // rekor-tiles answers an entry it has with 409 and its index only: read it back from tiles
        const recovered = await recoverV2(signed, err);
        if ('kind' in recovered) return recovered;
        tlog = recovered;
        kind = 'duplicate';
      }
      return {
        kind,
        logUrl,
        entry: entryRef(tlog, undefined, now()),
        bundle: toBundleJson(signed, tlog, stamps),
      };
    } catch (err) {
      return classifyFailure(err, logUrl, 2, now());
    }
  }

  /**
   * The existing entry of a v2 409 (`... already exists in the transparency
   * log with index N`): the index is only in the message, so it is read from
   * there; body and inclusion proof come from the tiles under a checkpoint
   * the trusted root verifies, and the body must be this envelope's.
   */
  async function recoverV2(signed: SignedEnvelope, err: HTTPError): Promise<TLogEntry | SubmitOutcome> {
    const index = /with index (\d+)/.exec(err.serverMessage ?? '')?.[1];
    if (index === undefined || logs === undefined) {
      return {
        kind: 'rejected',
        logUrl,
        status: 409,
        message:
          index === undefined
            ? `Rekor v2 answered 409 without the index of the existing entry (${err.serverMessage ?? ''})`
            : 'Rekor v2 has this entry (409); reading it back needs attestor.rekor.trustedRoot',
      };
    }
    const cp = openCheckpoint(await api.checkpoint(), logs);
    const { body, hashes } = await entryFromTiles((l, n, w) => api.tile(l, n, w), Number(index), cp.size);
    checkBodyIsEnvelope(body, signed);
    const { kind, apiVersion } = JSON.parse(body.toString('utf8')) as { kind: string; apiVersion: string };
    return {
      logIndex: index,
      logId: { keyId: cp.log!.logId },
      kindVersion: { kind, version: apiVersion },
      integratedTime: '0',
      inclusionPromise: undefined,
      inclusionProof: {
        logIndex: index,
        rootHash: cp.rootHash,
        treeSize: String(cp.size),
        hashes,
        checkpoint: { envelope: cp.note },
      },
      canonicalizedBody: body,
    };
  }

  return {
    logUrl,
    async submit(signed) {
      assertSignedEnvelope(signed);
      // the timestamp first (of the signature, so it is the same for any copy): a v2
      // entry without one would verify nowhere; a TSA failure sends nothing to the log
      let stamps: Buffer[];
      try {
        stamps = await timestamps(signed);
      } catch (err) {
        return tsaFailure(err, logUrl, options.timestampAuthorityUrl!);
      }
      return apiVersion === 2 ? submitV2(signed, stamps) : submitV1(signed, stamps);
    },
    async lookup(signed, onError) {
      if (apiVersion !== 1) return undefined;
      try {
        const answer = await findEnvelopeV1(api, signed);
        return answer && fromV1('duplicate', signed, answer, await timestamps(signed));
      } catch (err) {
        onError?.(err);
        return undefined;
      }
    },
    probe: (probeOptions) => probeLog(api, probeOptions, apiVersion === 2 ? { logs } : undefined),
    probeTimestampAuthority: async (probeOptions) => (tsa ? probeTimestamp(tsa, probeOptions) : undefined),
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

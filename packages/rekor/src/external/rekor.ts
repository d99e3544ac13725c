import type { LogEntry } from '@sigstore/rekor-types';
// 3.x re-exports LogEntry but not LogInfo from its index; the generated models have both
import type { LogInfo } from '@sigstore/rekor-types/dist/__generated__';
import { RekorError } from '../error';
import { tileIndexPath } from '../tiles';
import type { HttpResponse, HttpTransport } from './http';

/** A Rekor v1 log entry as the API returns it (`{ <uuid>: LogEntry }`), with its uuid. */
export type RekorV1Entry = { uuid: string } & LogEntry[string];

/** `GET /api/v1/log`. */
export type RekorLogInfo = LogInfo;

/** A v1 entry and the status it came with. */
export interface RekorV1Answer {
  status: number;
  entry: RekorV1Entry;
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** What is wrong with a v1 log entry's shape, or undefined when it has the fields we read. */
function entryProblem(e: unknown): string | undefined {
  if (!isRecord(e)) return 'the entry is not an object';
  if (typeof e.body !== 'string' || e.body === '') return 'body is not a base64 string';
  if (!isIndex(e.logIndex)) return 'logIndex is not a whole number';
  if (!isIndex(e.integratedTime)) return 'integratedTime is not a whole number';
  if (typeof e.logID !== 'string' || !HEX.test(e.logID)) return 'logID is not hex';
  if (e.verification === undefined) return undefined;
  if (!isRecord(e.verification)) return 'verification is not an object';
  const { signedEntryTimestamp: set, inclusionProof: p } = e.verification;
  if (set !== undefined && typeof set !== 'string') {
    return 'verification.signedEntryTimestamp is not a string';
  }
  if (p === undefined) return undefined;
  if (
    !isRecord(p) ||
    typeof p.checkpoint !== 'string' ||
    !isIndex(p.logIndex) ||
    !isIndex(p.treeSize) ||
    typeof p.rootHash !== 'string' ||
    !HEX.test(p.rootHash) ||
    !Array.isArray(p.hashes) ||
    !p.hashes.every((h) => typeof h === 'string' && HEX.test(h))
  ) {
    return 'verification.inclusionProof is not an inclusion proof';
  }
  return undefined;
}

/** Raw Rekor API calls, one request each, no retries. */
export class RekorApi {
  constructor(
    private readonly http: HttpTransport,
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  /** A 2xx answer that is not what the API describes. */
  private invalid(res: HttpResponse, what: string, problem: string): RekorError {
    return new RekorError(
      'INVALID_RESPONSE',
      `the log at ${this.baseUrl} answered HTTP ${res.status} with something that is not ${what}: ${problem}`,
      { status: res.status },
    );
  }

  /** The one entry of a `{ <uuid>: LogEntry }` answer; anything else is `INVALID_RESPONSE`. */
  private entryFrom(res: HttpResponse): RekorV1Answer {
    const what = 'a Rekor log entry';
    if (!isRecord(res.body)) throw this.invalid(res, what, 'the body is not a JSON object');
    const entries = Object.entries(res.body);
    if (entries.length !== 1) throw this.invalid(res, what, `expected one log entry, got ${entries.length}`);
    const [uuid, entry] = entries[0]!;
    const problem = entryProblem(entry);
    if (problem !== undefined) throw this.invalid(res, what, problem);
    return { status: res.status, entry: { ...(entry as LogEntry[string]), uuid } };
  }

  async createEntryV1(proposedEntry: unknown): Promise<RekorV1Answer> {
    const res = await this.http.request({
      method: 'POST',
      url: `${this.baseUrl}/api/v1/log/entries`,
      body: JSON.stringify(proposedEntry),
      timeoutMs: this.timeoutMs,
    });
    return this.entryFrom(res);
  }

  async getEntryV1(uuid: string): Promise<RekorV1Answer> {
    const res = await this.http.request({
      method: 'GET',
      url: `${this.baseUrl}/api/v1/log/entries/${encodeURIComponent(uuid)}`,
      timeoutMs: this.timeoutMs,
    });
    return this.entryFrom(res);
  }

  /**
   * `POST /api/v1/index/retrieve` by hash (`sha256:<hex>`): the UUIDs of the
   * entries the log indexes under it. An answer that is not a list of
   * strings is `INVALID_RESPONSE`.
   */
  async searchIndexV1(hash: string): Promise<string[]> {
    const res = await this.http.request({
      method: 'POST',
      url: `${this.baseUrl}/api/v1/index/retrieve`,
      body: JSON.stringify({ hash }),
      timeoutMs: this.timeoutMs,
    });
    if (!Array.isArray(res.body) || !res.body.every((u) => typeof u === 'string')) {
      throw this.invalid(res, 'a list of entry UUIDs', 'not an array of strings');
    }
    return res.body as string[];
  }

  /**
   * `GET /api/v1/log`; `timeoutMs` defaults to the client's request timeout.
   * An answer without a tree size and root hash is `INVALID_RESPONSE`.
   */
  async logInfoV1(timeoutMs: number = this.timeoutMs): Promise<RekorLogInfo> {
    const res = await this.http.request({ method: 'GET', url: `${this.baseUrl}/api/v1/log`, timeoutMs });
    const info = res.body;
    if (!isRecord(info) || !isIndex(info.treeSize) || typeof info.rootHash !== 'string') {
      throw this.invalid(res, "Rekor's log info", 'no treeSize and rootHash');
    }
    return info as RekorLogInfo;
  }

  /**
   * `POST /api/v2/log/entries`: a `TransparencyLogEntry` (protobuf JSON), with
   * the status (201 new; 200 from logs that answer an existing entry so).
   * `timeoutMs`: a v2 write waits for a checkpoint (CLIENTS.md: at least 20 s).
   */
  async createEntryV2(request: unknown, timeoutMs: number): Promise<{ status: number; body: unknown }> {
    const res = await this.http.request({
      method: 'POST',
      url: `${this.baseUrl}/api/v2/log/entries`,
      body: JSON.stringify(request),
      timeoutMs,
    });
    return { status: res.status, body: res.body };
  }

  /** `GET /checkpoint` (tlog-tiles): the signed note, as text. */
  async checkpoint(timeoutMs: number = this.timeoutMs): Promise<string> {
    const res = await this.http.request({
      method: 'GET',
      url: `${this.baseUrl}/checkpoint`,
      accept: 'text/plain',
      raw: true,
      timeoutMs,
    });
    return (res.body as Buffer).toString('utf8');
  }

  /** `GET /tile/<L>/<N>[.p/<W>]` or `/tile/entries/<N>[.p/<W>]`: the tile's bytes. */
  async tile(level: number | 'entries', index: number, width: number | undefined): Promise<Buffer> {
    const partial = width === undefined ? '' : `.p/${width}`;
    const res = await this.http.request({
      method: 'GET',
      url: `${this.baseUrl}/tile/${level}/${tileIndexPath(index)}${partial}`,
      accept: 'application/octet-stream',
      raw: true,
      timeoutMs: this.timeoutMs,
    });
    return res.body as Buffer;
  }
}

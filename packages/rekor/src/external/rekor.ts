import type { HttpTransport } from './http';

/** A Rekor v1 log entry as the API returns it (`{ <uuid>: LogEntry }`). */
export interface RekorV1Entry {
  uuid: string;
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification?: {
    signedEntryTimestamp?: string;
    inclusionProof?: {
      checkpoint: string;
      hashes: string[];
      logIndex: number;
      rootHash: string;
      treeSize: number;
    };
  };
}

/** `GET /api/v1/log`. */
export interface RekorLogInfo {
  treeSize: number;
  rootHash: string;
  signedTreeHead?: string;
  treeID?: string;
}

function entryFrom(body: unknown): RekorV1Entry {
  const entries = Object.entries((body ?? {}) as Record<string, Omit<RekorV1Entry, 'uuid'>>);
  if (entries.length !== 1) throw new Error(`expected one log entry, got ${entries.length}`);
  const [uuid, entry] = entries[0]!;
  return { ...entry, uuid };
}

/** Raw Rekor API calls, one request each, no retries. */
export class RekorApi {
  constructor(
    private readonly http: HttpTransport,
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async createEntryV1(proposedEntry: unknown): Promise<RekorV1Entry> {
    const res = await this.http.request({
      method: 'POST',
      url: `${this.baseUrl}/api/v1/log/entries`,
      body: JSON.stringify(proposedEntry),
      timeoutMs: this.timeoutMs,
    });
    return entryFrom(res.body);
  }

  async getEntryV1(uuid: string): Promise<RekorV1Entry> {
    const res = await this.http.request({
      method: 'GET',
      url: `${this.baseUrl}/api/v1/log/entries/${encodeURIComponent(uuid)}`,
      timeoutMs: this.timeoutMs,
    });
    return entryFrom(res.body);
  }

  async logInfoV1(): Promise<RekorLogInfo> {
    const res = await this.http.request({
      method: 'GET',
      url: `${this.baseUrl}/api/v1/log`,
      timeoutMs: this.timeoutMs,
    });
    return res.body as RekorLogInfo;
  }

  /**
   * `POST /api/v2/log/entries`: a `TransparencyLogEntry` (protobuf JSON), with
   * the status (201 new; 200 from logs that answer an existing entry so).
   */
  async createEntryV2(request: unknown): Promise<{ status: number; body: unknown }> {
    const res = await this.http.request({
      method: 'POST',
      url: `${this.baseUrl}/api/v2/log/entries`,
      body: JSON.stringify(request),
      timeoutMs: this.timeoutMs,
    });
    return { status: res.status, body: res.body };
  }
}

import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

/**
 * Raw HTTP to Rekor. Nothing here knows about outcomes: a non-2xx answer is
 * an `HTTPError` carrying the status and headers; a transport failure is the
 * Node error as is (with its `code`), a timeout an `HttpTimeoutError`.
 */

export class HTTPError extends Error {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The server's own explanation (`message` of a JSON body), if any. */
  readonly serverMessage: string | undefined;

  constructor(status: number, headers: IncomingHttpHeaders, serverMessage: string | undefined) {
    super(`(${status}) ${serverMessage ?? http.STATUS_CODES[status] ?? 'HTTP error'}`);
    this.name = 'HTTPError';
    this.status = status;
    this.headers = headers;
    this.serverMessage = serverMessage;
  }

  get location(): string | undefined {
    return this.headers.location;
  }
}

/**
 * The request took longer than its timeout. `phase` tells whether it ever
 * reached the server: `connect` (no connection was made: nothing was sent, code
 * `ECONNTIMEDOUT`) or `response` (the request went out and no complete answer
 * came: the server may have acted on it, code `ETIMEDOUT`).
 */
export class HttpTimeoutError extends Error {
  readonly code: 'ECONNTIMEDOUT' | 'ETIMEDOUT';
  constructor(
    readonly timeoutMs: number,
    readonly phase: 'connect' | 'response',
  ) {
    super(
      phase === 'connect'
        ? `no connection within ${timeoutMs} ms`
        : `no complete answer within ${timeoutMs} ms`,
    );
    this.name = 'TimeoutError';
    this.code = phase === 'connect' ? 'ECONNTIMEDOUT' : 'ETIMEDOUT';
  }
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  /** A JSON text, or bytes sent with `contentType`. */
  body?: string | Buffer;
  /** @defaultValue 'application/json' */
  contentType?: string;
  /** @defaultValue 'application/json' */
  accept?: string;
  /** Answer the body as bytes (a Buffer), not parsed. */
  raw?: boolean;
  timeoutMs: number;
}

/** One HTTP connection pool; `close()` ends its sockets. */
export class HttpTransport {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16 });

  /** Sends one request, no retries; resolves on 2xx with the parsed JSON body. */
  request(req: HttpRequest): Promise<HttpResponse> {
    const url = new URL(req.url);
    const secure = url.protocol === 'https:';
    const headers: Record<string, string> = { accept: req.accept ?? 'application/json' };
    if (req.body !== undefined) {
      headers['content-type'] = req.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(req.body));
    }
    return new Promise<HttpResponse>((resolve, reject) => {
      const r = (secure ? https : http).request(url, {
        method: req.method,
        headers,
        agent: secure ? this.httpsAgent : this.httpAgent,
      });
      // a pooled socket is connected already; a new one once 'connect' fires
      let connected = false;
      r.once('socket', (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once(secure ? 'secureConnect' : 'connect', () => (connected = true));
      });
      const timer = setTimeout(
        () => r.destroy(new HttpTimeoutError(req.timeoutMs, connected ? 'response' : 'connect')),
        req.timeoutMs,
      );
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      r.on('error', fail);
      r.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          const bytes = Buffer.concat(chunks);
          const body = parseBody(bytes.toString('utf8'), res.headers['content-type']);
          if (status >= 200 && status < 300)
            resolve({ status, headers: res.headers, body: req.raw ? bytes : body });
          else reject(new HTTPError(status, res.headers, serverMessage(body)));
        });
      });
      r.end(req.body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === '') return undefined;
  if (contentType?.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function serverMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.slice(0, 1000) || undefined;
  if (
    body !== null &&
    typeof body === 'object' &&
    typeof (body as { message?: unknown }).message === 'string'
  ) {
    return (body as { message: string }).message;
  }
  return undefined;
}

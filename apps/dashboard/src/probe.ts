import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export type RekorState = 'reachable' | 'unreachable' | 'air-gapped';

/** What the dashboard knows of the configured Rekor. */
export interface RekorReachability {
  state: RekorState;
  serverUrl: string;
  /** HTTP status, or the error, of the probe. */
  detail: string;
  /** Entries in the log, when Rekor answered with its log info. */
  treeSize?: number;
  /** How long the probe took (ms). */
  latencyMs?: number;
}

/** `GET <serverUrl>/api/v1/log` with a short timeout, one connection, closed after. */
export function probeRekor(serverUrl: string, timeoutMs: number): Promise<RekorReachability> {
  const started = Date.now();
  const url = new URL(`${serverUrl}/api/v1/log`);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: Omit<RekorReachability, 'serverUrl' | 'latencyMs'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...r, serverUrl, latencyMs: Date.now() - started });
    };
    const req = request(
      url,
      { method: 'GET', agent: false, headers: { accept: 'application/json', connection: 'close' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => finish({ state: 'unreachable', detail: e.message }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            return finish({ state: 'unreachable', detail: `HTTP ${status}` });
          }
          let treeSize: number | undefined;
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { treeSize?: unknown };
            if (typeof body.treeSize === 'number') treeSize = body.treeSize;
          } catch {
            // a 2xx without JSON still means Rekor answered
          }
          finish({
            state: 'reachable',
            detail: `HTTP ${status}`,
            ...(treeSize === undefined ? {} : { treeSize }),
          });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish({ state: 'unreachable', detail: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (e) => finish({ state: 'unreachable', detail: e.message }));
    req.end();
  });
}

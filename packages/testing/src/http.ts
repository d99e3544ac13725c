import { request } from 'node:http';

/** An HTTP answer as a test reads it. */
export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request on its own connection (closed after), so no socket outlives the test. */
export function http(
  url: string,
  options: { method?: string; headers?: Record<string, string>; auth?: string; body?: string } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { connection: 'close', ...options.headers };
    if (options.auth !== undefined)
      headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const req = request(url, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

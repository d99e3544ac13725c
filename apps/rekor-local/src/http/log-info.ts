import type { ServerResponse } from 'node:http';
import { badRequest } from '../errors';
import type { TransparencyLog } from '../log/transparency-log';
import { sendJson } from './respond';

/** `GET /api/v1/log`. */
export function getLogInfo(res: ServerResponse, log: TransparencyLog): void {
  sendJson(res, 200, log.info());
}

/** `GET /api/v1/log/proof?firstSize=&lastSize=`: an RFC 6962 consistency proof. */
export function getConsistencyProof(
  res: ServerResponse,
  log: TransparencyLog,
  params: URLSearchParams,
): void {
  const size = log.size;
  const first = whole(params.get('firstSize') ?? '1', 'firstSize');
  const last = whole(params.get('lastSize') ?? String(size), 'lastSize');
  if (first < 1) throw badRequest('firstSize: must be >= 1');
  if (last > size) throw badRequest(`lastSize: ${last} is beyond the tree size ${size}`);
  if (first > last) throw badRequest(`firstSize (${first}) must be <= lastSize (${last})`);
  sendJson(res, 200, log.consistencyProof(first, last));
}

/** `GET /api/v1/log/publicKey`: the log's public key, PEM. */
export function getPublicKey(res: ServerResponse, log: TransparencyLog): void {
  const pem = log.key.publicPem();
  res.writeHead(200, { 'Content-Type': 'application/x-pem-file', 'Content-Length': Buffer.byteLength(pem) });
  res.end(pem);
}

function whole(text: string, name: string): number {
  if (!/^\d{1,15}$/.test(text)) throw badRequest(`${name}: expected a whole number`);
  return Number(text);
}

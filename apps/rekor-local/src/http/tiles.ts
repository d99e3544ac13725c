import type { ServerResponse } from 'node:http';
import type { TransparencyLog } from '../log/transparency-log';
import { readTile } from '../tiles/tiles';
import type { TileRequest } from '../tiles/layout';

/**
 * The tlog-tiles read API as rekor-tiles serves it (pkg/server/service_read.go):
 * `GET /checkpoint` (text/plain, no-cache), `GET /tile/<L>/<N>[.p/<W>]` and
 * `GET /tile/entries/<N>[.p/<W>]` (application/octet-stream, immutable).
 */
export function getCheckpoint(res: ServerResponse, log: TransparencyLog): void {
  send(res, 'text/plain; charset=utf-8', 'no-cache', Buffer.from(log.checkpointNote(), 'utf8'));
}

export function getTile(res: ServerResponse, log: TransparencyLog, tile: TileRequest): void {
  send(res, 'application/octet-stream', 'max-age=31536000, immutable', readTile(log, tile));
}

function send(res: ServerResponse, type: string, cache: string, body: Buffer): void {
  res.writeHead(200, { 'Content-Type': type, 'Cache-Control': cache, 'Content-Length': body.length });
  res.end(body);
}

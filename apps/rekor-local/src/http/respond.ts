import type { ServerResponse } from 'node:http';
import { RekorLocalError } from '../errors';

/** Sends a JSON answer. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Sends Rekor's error shape `{code, message}`. */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  headers?: Record<string, string>,
): void {
  sendJson(res, status, { code: status, message }, headers);
}

/** Answers a thrown error: a RekorLocalError with its status, anything else as a 500. */
export function sendFailure(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof RekorLocalError) sendError(res, err.status, err.message);
  else sendError(res, 500, 'internal error');
}

/** gRPC status codes of the answers rekor-tiles' HTTP gateway sends, by HTTP status. */
const GRPC_CODES: Record<number, number> = {
  400: 3,
  404: 5,
  405: 12,
  409: 6,
  413: 8,
  429: 8,
  500: 2,
  503: 14,
};

/**
 * Sends an error as rekor-tiles (grpc-gateway) does: `{code: <gRPC code>,
 * message, details: []}`.
 */
export function sendGrpcError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { code: GRPC_CODES[status] ?? 2, message, details: [] });
}

/** `sendFailure` in rekor-tiles' error shape. */
export function sendGrpcFailure(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof RekorLocalError) sendGrpcError(res, err.status, err.message);
  else sendGrpcError(res, 500, 'internal error');
}

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

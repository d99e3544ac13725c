import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { json } from '@sigstore/core';
import { RekorLocalError, badRequest } from '../errors';

/** Past this many bytes a request over the limit is no longer drained: its socket is reset. */
const DRAIN_CAP_BYTES = 64 * 1024 * 1024;

/**
 * Reads a request body of at most `limitBytes`. A larger body is drained
 * (so the client reads the answer) and refused with PAYLOAD_TOO_LARGE.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const tooLarge = () =>
      new RekorLocalError('PAYLOAD_TOO_LARGE', `request body exceeds the limit of ${limitBytes} bytes`);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > DRAIN_CAP_BYTES) {
      req.socket.destroy();
      reject(tooLarge());
      return;
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > DRAIN_CAP_BYTES) req.socket.destroy();
      else if (size <= limitBytes) chunks.push(chunk);
    });
    req.on('end', () => (size > limitBytes ? reject(tooLarge()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/** Parses a JSON request body; malformed JSON is a 400. */
export async function readJson(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const body = await readBody(req, limitBytes);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('request body is not valid JSON');
  }
}

/** The digest of a parsed request body under an API (`v1`, `v2`): the same request, key order aside, gives the same digest. */
export function proposalDigest(api: string, body: unknown): string {
  return createHash('sha256')
    .update(`${api}\n${json.canonicalize(body)}`)
    .digest('hex');
}

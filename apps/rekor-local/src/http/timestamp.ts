import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from '../errors';
import { parseJsonTimestampRequest, parseTimestampRequest, type TimestampAuthority } from '../tsa/authority';
import { readBody } from './body';

/** Largest timestamp request: a digest, a nonce and framing. */
const REQUEST_LIMIT_BYTES = 4096;

/**
 * `POST /api/v1/timestamp`, as sigstore's timestamp-authority serves it: a
 * DER `TimeStampReq` (`Content-Type: application/timestamp-query`) or its
 * JSON form (`application/json`: `{artifactHash, hashAlgorithm, certificates?,
 * nonce?}`); answers 201 with the DER `TimeStampResp`
 * (`application/timestamp-reply`).
 */
export async function createTimestamp(
  req: IncomingMessage,
  res: ServerResponse,
  tsa: TimestampAuthority,
): Promise<void> {
  const body = await readBody(req, REQUEST_LIMIT_BYTES);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  let query;
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw badRequest('request body is not valid JSON');
    }
    query = parseJsonTimestampRequest(parsed);
  } else if (type === 'application/timestamp-query' || type === '') {
    query = parseTimestampRequest(body);
  } else {
    throw badRequest(`Content-Type ${type} is not application/timestamp-query nor application/json`);
  }
  const reply = tsa.timestamp(query);
  res.writeHead(201, { 'Content-Type': 'application/timestamp-reply', 'Content-Length': reply.length });
  res.end(reply);
}

/** `GET /api/v1/timestamp/certchain`: the TSA's chain, PEM, leaf first. */
export function getCertChain(res: ServerResponse, tsa: TimestampAuthority): void {
  const pem = tsa.chainPem();
  res.writeHead(200, {
    'Content-Type': 'application/pem-certificate-chain',
    'Content-Length': Buffer.byteLength(pem),
  });
  res.end(pem);
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { RekorLocalError, badRequest } from '../errors';
import { canonicalizeDsseV2 } from '../kinds/dsse-v2';
import { canonicalizeHashedRekordV2 } from '../kinds/hashedrekord-v2';
import type { CanonicalEntry } from '../kinds/types';
import type { TransparencyLog } from '../log/transparency-log';
import { proposalDigest, readJson } from './body';
import { sendGrpcError, sendJson } from './respond';

/**
 * `POST /api/v2/log/entries` as rekor-tiles answers it
 * (pkg/server/service.go): 201 with a TransparencyLogEntry for a new entry;
 * an entry already logged is 409 (gRPC AlreadyExists) with the message
 * `an equivalent entry already exists in the transparency log with index N`
 * and no entry; bad input is 400. Errors are grpc-gateway's
 * `{code, message, details}`.
 */
export async function createEntryV2(
  req: IncomingMessage,
  res: ServerResponse,
  log: TransparencyLog,
  limitBytes: number,
): Promise<void> {
  const request = await readJson(req, limitBytes);
  // the duplicate check comes first: a repeated request costs no signature verification
  const proposal = proposalDigest('v2', request);
  const known = await log.findProposal(proposal);
  if (known !== undefined) return duplicate(res, known);
  const { index, existing } = await log.append(await canonicalize(request), proposal);
  if (existing) return duplicate(res, index);
  const entry = log.transparencyLogEntry(index);
  sendJson(res, 201, entry);
}

function duplicate(res: ServerResponse, index: number): void {
  sendGrpcError(res, 409, `an equivalent entry already exists in the transparency log with index ${index}`);
}

async function canonicalize(request: unknown): Promise<CanonicalEntry> {
  if (request === null || typeof request !== 'object' || Array.isArray(request))
    throw badRequest('expected a JSON object');
  const kinds = Object.keys(request);
  if (kinds.length !== 1) throw badRequest('invalid type, must be either hashedrekord or dsse');
  switch (kinds[0]) {
    case 'dsseRequestV002':
      return canonicalizeDsseV2(request);
    case 'hashedRekordRequestV002':
      return canonicalizeHashedRekordV2(request);
    default:
      throw new RekorLocalError('UNSUPPORTED_KIND', 'invalid type, must be either hashedrekord or dsse');
  }
}

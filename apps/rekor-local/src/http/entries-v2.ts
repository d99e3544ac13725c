import type { IncomingMessage, ServerResponse } from 'node:http';
import { RekorLocalError } from '../errors';
import { canonicalizeDsseV2 } from '../kinds/dsse-v2';
import type { TransparencyLog } from '../log/transparency-log';
import { proposalDigest, readJson } from './body';
import { sendJson } from './respond';

/**
 * `POST /api/v2/log/entries` (Rekor v2, `dsseRequestV002` only): 201 with a
 * TransparencyLogEntry; the same entry again answers 200 with the existing one,
 * as Rekor v2 deduplicates instead of answering 409.
 */
export async function createEntryV2(
  req: IncomingMessage,
  res: ServerResponse,
  log: TransparencyLog,
  limitBytes: number,
): Promise<void> {
  const request = await readJson(req, limitBytes);
  if (request !== null && typeof request === 'object' && 'hashedRekordRequestV002' in request) {
    throw new RekorLocalError(
      'UNSUPPORTED_KIND',
      'hashedRekordRequestV002 is not supported; use dsseRequestV002',
    );
  }
  // the duplicate check comes first: a repeated request costs no signature verification
  const proposal = proposalDigest('v2', request);
  const known = await log.findProposal(proposal);
  if (known !== undefined) {
    sendJson(res, 200, log.transparencyLogEntry(known, 'dsse', '0.0.2'));
    return;
  }
  const entry = await canonicalizeDsseV2(request);
  const { index, existing } = await log.append(entry, proposal);
  sendJson(res, existing ? 200 : 201, log.transparencyLogEntry(index, entry.kind, entry.apiVersion));
}

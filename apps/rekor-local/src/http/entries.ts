import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, RekorLocalError } from '../errors';
import { normalizeSearchHash } from '../log/index-keys';
import { canonicalizeProposedEntry } from '../kinds';
import type { TransparencyLog } from '../log/transparency-log';
import type { LogEntryMap } from '../log/types';
import { proposalDigest, readJson } from './body';
import { sendError, sendJson } from './respond';

const ENTRIES_PATH = '/api/v1/log/entries';

/** `POST /api/v1/log/entries`: 201 with the new entry, or 409 naming the existing one. */
export async function createEntry(
  req: IncomingMessage,
  res: ServerResponse,
  log: TransparencyLog,
  limitBytes: number,
): Promise<void> {
  const proposed = await readJson(req, limitBytes);
  // the duplicate check comes first: a repeated request costs no signature verification
  const proposal = proposalDigest('v1', proposed);
  const known = await log.findProposal(proposal);
  const { index, existing } =
    known !== undefined
      ? { index: known, existing: true }
      : await log.append(await canonicalizeProposedEntry(proposed), proposal);
  const uuid = log.uuid(index);
  const location = `${ENTRIES_PATH}/${uuid}`;
  if (existing) {
    sendError(res, 409, `an equivalent entry already exists in the transparency log with UUID ${uuid}`, {
      Location: location,
    });
    return;
  }
  sendJson(res, 201, log.logEntry(index), { Location: location, ETag: uuid });
}

/** `GET /api/v1/log/entries/{uuid}`. */
export function getEntryByUuid(res: ServerResponse, log: TransparencyLog, uuid: string): void {
  if (!/^[0-9a-fA-F]{64}([0-9a-fA-F]{16})?$/.test(uuid))
    throw badRequest('entryUUID: expected 64 or 80 hex digits');
  const index = log.indexOfUuid(uuid);
  if (index === undefined) throw new RekorLocalError('NOT_FOUND', `no entry with UUID ${uuid}`);
  sendJson(res, 200, log.logEntry(index));
}

/** `GET /api/v1/log/entries?logIndex=N`. */
export function getEntryByIndex(res: ServerResponse, log: TransparencyLog, logIndex: string | null): void {
  if (logIndex === null || !/^\d{1,15}$/.test(logIndex))
    throw badRequest('logIndex: expected a whole number >= 0');
  const index = Number(logIndex);
  if (index >= log.size) throw new RekorLocalError('NOT_FOUND', `no entry at log index ${index}`);
  sendJson(res, 200, log.logEntry(index));
}

/** `POST /api/v1/log/entries/retrieve`: the entries found among `entryUUIDs` and `logIndexes`. */
export async function retrieveEntries(
  req: IncomingMessage,
  res: ServerResponse,
  log: TransparencyLog,
  limitBytes: number,
): Promise<void> {
  const { entryUUIDs, logIndexes } = await readObject(req, limitBytes);
  if (entryUUIDs === undefined && logIndexes === undefined) {
    throw badRequest('send at least one of entryUUIDs, logIndexes');
  }
  const uuids = listOf(entryUUIDs, 'entryUUIDs', (v): v is string => typeof v === 'string');
  const indexes = listOf(
    logIndexes,
    'logIndexes',
    (v): v is number => Number.isInteger(v) && (v as number) >= 0,
  );
  const found: LogEntryMap[] = [];
  for (const uuid of uuids) {
    const index = log.indexOfUuid(uuid);
    if (index !== undefined) found.push(log.logEntry(index));
  }
  for (const index of indexes) if (index < log.size) found.push(log.logEntry(index));
  sendJson(res, 200, found);
}

/**
 * `POST /api/v1/index/retrieve`: the UUIDs of the entries indexed under
 * `hash` (Rekor's `SearchIndex`; rekor-local searches by hash only).
 */
export async function searchIndex(
  req: IncomingMessage,
  res: ServerResponse,
  log: TransparencyLog,
  limitBytes: number,
): Promise<void> {
  const { hash, ...others } = await readObject(req, limitBytes);
  const unsupported = Object.keys(others).filter((k) => k !== 'operator');
  if (unsupported.length > 0) {
    throw badRequest(`rekor-local searches by hash only; ${unsupported.join(', ')} is not supported`);
  }
  const normalized = typeof hash === 'string' ? normalizeSearchHash(hash) : undefined;
  if (normalized === undefined) throw badRequest('hash: expected "sha256:<64 hex digits>"');
  sendJson(res, 200, log.searchByHash(normalized));
}

/** A request body that must be one JSON object. */
async function readObject(req: IncomingMessage, limitBytes: number): Promise<Record<string, unknown>> {
  const query = await readJson(req, limitBytes);
  if (query === null || typeof query !== 'object' || Array.isArray(query))
    throw badRequest('expected a JSON object');
  return query as Record<string, unknown>;
}

const MAX_RETRIEVE = 10;

function listOf<T>(value: unknown, name: string, ok: (v: unknown) => v is T): T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(ok))
    throw badRequest(`${name}: expected an array of valid values`);
  if (value.length > MAX_RETRIEVE) throw badRequest(`${name}: at most ${MAX_RETRIEVE} per request`);
  return value;
}

import { isSha256Digest, isTenantId, isTier, type ReceiptJson, type Sha256Digest } from '@rekor-budget/core';
import { documentDigest } from './digest';
import { OfflineKitError } from './error';

/** `kind` of every receipts file. */
export const RECEIPTS_KIND = 'rekor-budget/receipts';
export const RECEIPTS_FORMAT_VERSION = 1;

/** One receipt as it travels in a receipts file. */
export type ReceiptRecord = ReceiptJson;

/** A receipts file: the receipts, what selected them, and the file's digest. */
export interface ReceiptsFile {
  kind: typeof RECEIPTS_KIND;
  formatVersion: typeof RECEIPTS_FORMAT_VERSION;
  createdAt: string;
  filter: { since?: string; tenantId?: string };
  receipts: ReceiptRecord[];
  /** sha256 over the canonical JSON of the file without this field. */
  digest: Sha256Digest;
}

export function sealReceiptsFile(body: Omit<ReceiptsFile, 'digest'>): ReceiptsFile {
  const file = { ...body, digest: '' as Sha256Digest };
  file.digest = documentDigest(file as unknown as Record<string, unknown>, 'digest');
  return file;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function invalid(message: string, cause?: unknown): never {
  throw new OfflineKitError('RECEIPTS_INVALID', `the receipts file ${message}`, { cause });
}

function checkReceipt(r: unknown, i: number): ReceiptRecord {
  const at = `receipts[${i}]`;
  if (!isRecord(r)) invalid(`has ${at} that is not an object`);
  const ok =
    isTenantId(r.tenantId) &&
    isTier(r.tier) &&
    isSha256Digest(r.contentDigest) &&
    typeof r.uuid === 'string' &&
    r.uuid !== '' &&
    Number.isInteger(r.logIndex) &&
    (r.logIndex as number) >= 0 &&
    typeof r.integratedTime === 'string' &&
    !Number.isNaN(Date.parse(r.integratedTime)) &&
    typeof r.logId === 'string' &&
    typeof r.logUrl === 'string' &&
    isRecord(r.bundle);
  if (!ok)
    invalid(
      `has a malformed ${at} (tenantId, tier, contentDigest, uuid, logIndex, integratedTime, logId, logUrl, bundle)`,
    );
  return r as unknown as ReceiptRecord;
}

/**
 * Parses and checks a receipts file: JSON, kind and version, its digest,
 * then every receipt's shape. Throws `RECEIPTS_INVALID` (truncated,
 * damaged, not a receipts file) or `RECEIPTS_DIGEST_MISMATCH` (edited).
 */
export function parseReceiptsFile(text: string): ReceiptsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    invalid('is not JSON (truncated or damaged); export it again', cause);
  }
  if (!isRecord(raw) || raw.kind !== RECEIPTS_KIND) invalid(`is not a receipts file (kind ${RECEIPTS_KIND})`);
  if (raw.formatVersion !== RECEIPTS_FORMAT_VERSION) {
    invalid(
      `has format version ${JSON.stringify(raw.formatVersion)}; this version reads ${RECEIPTS_FORMAT_VERSION}`,
    );
  }
  if (!isSha256Digest(raw.digest) || documentDigest(raw, 'digest') !== raw.digest) {
    throw new OfflineKitError(
      'RECEIPTS_DIGEST_MISMATCH',
      'the receipts file does not match its digest: it was edited or damaged; export it again',
    );
  }
  if (!Array.isArray(raw.receipts)) invalid('has no receipts list');
  raw.receipts.forEach(checkReceipt);
  return raw as unknown as ReceiptsFile;
}

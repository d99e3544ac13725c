import { isSha256Digest, isTenantId, isTier, type Sha256Digest, type Tier } from '@rekor-budget/core';
import { documentDigest } from './digest';
import { OfflineKitError } from './error';

/** `kind` of every kit manifest. */
export const KIT_KIND = 'rekor-budget/offline-kit';
/** The kit format version this package writes and reads. */
export const KIT_FORMAT_VERSION = 1;
/** The manifest's file name at the root of a kit. */
export const MANIFEST_FILE = 'manifest.json';
/** Folder of the envelope files inside a kit. */
export const ENVELOPE_DIR = 'envelopes';

/** One pending attestation in a kit. */
export interface KitEntry {
  /** Row id in the exporting site's offline queue. */
  id: string;
  tenantId: string;
  tier: Tier;
  contentDigest: Sha256Digest;
  /** Kit-relative path of the envelope file: `envelopes/<content digest hex>.json`. */
  file: string;
  /** sha256 of the envelope file's bytes. */
  sha256: Sha256Digest;
  /** When the submission entered the exporting site's offline queue (ISO 8601). */
  queuedAt: string;
  /** The submission's priority (not attested: absent in kits of earlier versions, then 0). */
  priority?: number;
}

/** Where the kit comes from and which log it was meant for. */
export interface KitSite {
  /** The exporting site's name (`--site`, else the host name). */
  name: string;
  /** The Rekor log the site is configured for (`attestor.rekor.serverUrl`). */
  logUrl: string;
  apiVersion: 1 | 2;
  entryKind: 'dsse' | 'intoto';
}

/** `manifest.json`: everything in the kit, and the digest of the manifest itself. */
export interface KitManifest {
  kind: typeof KIT_KIND;
  formatVersion: typeof KIT_FORMAT_VERSION;
  /** ISO 8601. */
  createdAt: string;
  site: KitSite;
  entries: KitEntry[];
  /** sha256 over the canonical JSON of the manifest without this field. */
  manifestDigest: Sha256Digest;
}

const FILE_RE = new RegExp(`^${ENVELOPE_DIR}/[0-9a-f]{64}\\.json$`);

/** The kit-relative envelope path of a content digest. */
export function envelopeFileOf(contentDigest: Sha256Digest): string {
  return `${ENVELOPE_DIR}/${contentDigest.slice('sha256:'.length)}.json`;
}

/** Seals a manifest body with its digest. */
export function sealManifest(body: Omit<KitManifest, 'manifestDigest'>): KitManifest {
  const manifest = { ...body, manifestDigest: '' as Sha256Digest };
  manifest.manifestDigest = documentDigest(manifest as unknown as Record<string, unknown>, 'manifestDigest');
  return manifest;
}

function invalid(message: string): never {
  throw new OfflineKitError('MANIFEST_INVALID', `${MANIFEST_FILE}: ${message}`, { file: MANIFEST_FILE });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkEntry(raw: unknown, i: number): KitEntry {
  const at = `entries[${i}]`;
  if (!isRecord(raw)) invalid(`${at} is not an object`);
  if (typeof raw.id !== 'string' || raw.id === '') invalid(`${at}.id is not a row id`);
  if (!isTenantId(raw.tenantId)) invalid(`${at}.tenantId is not a UUID`);
  if (!isTier(raw.tier)) invalid(`${at}.tier is not graph or edge`);
  if (!isSha256Digest(raw.contentDigest)) invalid(`${at}.contentDigest is not a sha256 digest`);
  if (!isSha256Digest(raw.sha256)) invalid(`${at}.sha256 is not a sha256 digest`);
  if (typeof raw.file !== 'string' || raw.file !== envelopeFileOf(raw.contentDigest)) {
    invalid(`${at}.file is not ${envelopeFileOf(raw.contentDigest)}`);
  }
  if (typeof raw.queuedAt !== 'string' || Number.isNaN(Date.parse(raw.queuedAt))) {
    invalid(`${at}.queuedAt is not a time`);
  }
  if (raw.priority !== undefined && !Number.isInteger(raw.priority)) {
    invalid(`${at}.priority is not a whole number`);
  }
  return raw as unknown as KitEntry;
}

/**
 * Parses and checks `manifest.json`: JSON, kind and format version, the
 * shape of every entry (no path may leave `envelopes/`, no digest twice) and
 * the manifest digest. Throws `MANIFEST_INVALID` or `MANIFEST_DIGEST_MISMATCH`.
 */
export function parseManifest(text: string): KitManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new OfflineKitError('MANIFEST_INVALID', `${MANIFEST_FILE} is not JSON (truncated or damaged)`, {
      cause,
      file: MANIFEST_FILE,
    });
  }
  if (!isRecord(raw) || raw.kind !== KIT_KIND) invalid(`not an offline kit manifest (kind ${KIT_KIND})`);
  if (raw.formatVersion !== KIT_FORMAT_VERSION) {
    invalid(
      `format version ${JSON.stringify(raw.formatVersion)} is not supported (this version reads ${KIT_FORMAT_VERSION}); import with a matching rekor-budget`,
    );
  }
  if (!isSha256Digest(raw.manifestDigest)) invalid('manifestDigest is missing');
  if (documentDigest(raw, 'manifestDigest') !== raw.manifestDigest) {
    throw new OfflineKitError(
      'MANIFEST_DIGEST_MISMATCH',
      `${MANIFEST_FILE} does not match its manifestDigest: it was edited or damaged; export the kit again`,
      { file: MANIFEST_FILE },
    );
  }
  if (typeof raw.createdAt !== 'string' || Number.isNaN(Date.parse(raw.createdAt))) {
    invalid('createdAt is not a time');
  }
  const site = raw.site;
  if (!isRecord(site) || typeof site.name !== 'string' || typeof site.logUrl !== 'string') {
    invalid('site is not an object with name and logUrl');
  }
  if (!Array.isArray(raw.entries)) invalid('entries is not a list');
  const entries = raw.entries.map(checkEntry);
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.contentDigest)) invalid(`content digest ${e.contentDigest} is listed twice`);
    seen.add(e.contentDigest);
  }
  if (!entries.every((e) => FILE_RE.test(e.file))) invalid('an entry names a file outside envelopes/');
  return raw as unknown as KitManifest;
}

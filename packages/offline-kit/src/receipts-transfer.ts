import type { Kysely } from 'kysely';
import { receiptToJson, type Receipt } from '@rekor-budget/core';
import type { Database } from '@rekor-budget/db';
import { createReceiptStore, OfflineQueue } from '@rekor-budget/queue';
import { RekorError, verifyBundle } from '@rekor-budget/rekor';
import { OfflineKitError } from './error';
import {
  parseReceiptsFile,
  RECEIPTS_FORMAT_VERSION,
  RECEIPTS_KIND,
  sealReceiptsFile,
  type ReceiptsFile,
} from './receipts-file';

export interface ExportReceiptsOptions {
  db: Kysely<Database>;
  /** Only receipts stored at this site at or after this time. */
  since?: Date;
  /** Only this tenant's receipts. */
  tenantId?: string;
  /** @defaultValue () => new Date() */
  now?: () => Date;
}

/** The receipts of this site (oldest first) as a sealed receipts file. */
export async function exportReceipts(options: ExportReceiptsOptions): Promise<ReceiptsFile> {
  const rows = await createReceiptStore(options.db).list({
    ...(options.since ? { since: options.since } : {}),
    ...(options.tenantId ? { tenantId: options.tenantId.toLowerCase() } : {}),
    order: 'oldest',
    limit: null,
  });
  return sealReceiptsFile({
    kind: RECEIPTS_KIND,
    formatVersion: RECEIPTS_FORMAT_VERSION,
    createdAt: (options.now ?? (() => new Date()))().toISOString(),
    filter: {
      ...(options.since ? { since: options.since.toISOString() } : {}),
      ...(options.tenantId ? { tenantId: options.tenantId.toLowerCase() } : {}),
    },
    receipts: rows.map(receiptToJson),
  });
}

export interface ImportReceiptsOptions {
  db: Kysely<Database>;
  /** The receipts file's text. */
  text: string;
  /**
   * The log's trusted root and the signing public key: every bundle is
   * verified offline against them before anything is stored. Both are
   * required unless `skipVerification`.
   */
  trustedRoot?: unknown;
  publicKeyPem?: string;
  /**
   * Store the receipts without verifying their bundles: only the file's
   * digest and shape are checked, so a forged file closes rows that were
   * never logged. Never the default. @defaultValue false
   */
  skipVerification?: boolean;
}

export interface ImportReceiptsReport {
  receipts: number;
  /** Receipts this site did not have yet. */
  stored: number;
  /** Offline rows closed (deleted) because their receipt arrived. */
  closed: number;
  /** Bundles verified offline (0 without a trusted root and key). */
  verified: number;
}

/** The content digest the bundle's statement attests, if it carries one. */
function attestedDigest(bundle: unknown): unknown {
  try {
    const payload = (bundle as { dsseEnvelope?: { payload?: string } }).dsseEnvelope?.payload;
    if (typeof payload !== 'string') return undefined;
    return (
      JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as {
        predicate?: { contentDigest?: unknown };
      }
    ).predicate?.contentDigest;
  } catch {
    return undefined;
  }
}

function verifyAll(file: ReceiptsFile, trustedRoot: unknown, publicKeyPem: string): number {
  for (const [i, r] of file.receipts.entries()) {
    let result;
    try {
      result = verifyBundle({ bundle: r.bundle, trustedRoot, publicKeyPem });
    } catch (e) {
      if (!(e instanceof RekorError) || e.code !== 'INVALID_BUNDLE') throw e;
      result = { verified: false as const, code: e.code, message: e.message };
    }
    if (!result.verified) {
      throw new OfflineKitError(
        'BUNDLE_UNVERIFIED',
        `receipts[${i}] (${r.contentDigest}): the bundle does not verify (${result.code}: ${result.message}); nothing was imported`,
      );
    }
    if (result.logIndex !== r.logIndex) {
      throw new OfflineKitError(
        'BUNDLE_UNVERIFIED',
        `receipts[${i}] (${r.contentDigest}): the bundle is for log index ${result.logIndex}, the receipt says ${r.logIndex}; nothing was imported`,
      );
    }
  }
  return file.receipts.length;
}

/**
 * Imports a receipts file at the site that produced the attestations: checks
 * the file (digest, shape, each bundle attests the receipt's content digest),
 * verifies every bundle offline against the trusted root and signing key
 * (`VERIFICATION_REQUIRED` without them, unless `skipVerification`), then in one transaction stores
 * the receipts (idempotently) and closes the offline rows they answer (rows
 * of that content digest that are `air_gapped` or were exported in a kit).
 * A refused file writes nothing.
 */
export async function importReceipts(options: ImportReceiptsOptions): Promise<ImportReceiptsReport> {
  const { trustedRoot, publicKeyPem } = options;
  const verify = trustedRoot !== undefined && publicKeyPem !== undefined;
  if (!verify && options.skipVerification !== true) {
    throw new OfflineKitError(
      'VERIFICATION_REQUIRED',
      "the receipts' bundles must be verified before they close offline rows: pass --trusted-root <the log's trusted_root.json> (and --key <signing public key> unless signing.keyPath is set), or --no-verify to store them unchecked",
    );
  }
  const file = parseReceiptsFile(options.text);
  for (const [i, r] of file.receipts.entries()) {
    if (attestedDigest(r.bundle) !== r.contentDigest) {
      throw new OfflineKitError(
        'RECEIPTS_INVALID',
        `receipts[${i}]: the bundle does not attest ${r.contentDigest}; nothing was imported`,
      );
    }
  }
  const verified = verify ? verifyAll(file, trustedRoot, publicKeyPem) : 0;
  return options.db.transaction().execute(async (trx) => {
    const store = createReceiptStore(trx);
    let stored = 0;
    for (const r of file.receipts) {
      const receipt: Receipt = { ...r, integratedTime: new Date(r.integratedTime) };
      if (await store.save(receipt)) stored += 1;
    }
    const digests = [...new Set(file.receipts.map((r) => r.contentDigest))];
    const closed = await new OfflineQueue(trx).closeAnswered(trx, digests);
    return { receipts: file.receipts.length, stored, closed, verified };
  });
}

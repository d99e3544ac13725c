import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, basename } from 'node:path';
import type { Kysely } from 'kysely';
import type { Sha256Digest } from '@rekor-budget/core';
import type { Database, OfflineRow } from '@rekor-budget/db';
import { OfflineQueue, submissionOf } from '@rekor-budget/queue';
import { buildStatement, RekorError, signEnvelope, type Signer } from '@rekor-budget/rekor';
import { sha256 } from './digest';
import { OfflineKitError } from './error';
import {
  ENVELOPE_DIR,
  envelopeFileOf,
  KIT_FORMAT_VERSION,
  KIT_KIND,
  MANIFEST_FILE,
  sealManifest,
  type KitEntry,
  type KitManifest,
  type KitSite,
} from './manifest';

export interface ExportKitOptions {
  db: Kysely<Database>;
  /** The kit directory to create; it must not exist or be empty. */
  outDir: string;
  /** Where the kit comes from; `name` defaults to the host name. */
  site: Omit<KitSite, 'name'> & { name?: string };
  /** Signs rows that wait without an envelope; without it those rows are skipped. */
  signer?: Signer;
  /** @defaultValue 102 400 */
  maxPayloadBytes?: number;
  /** Include rows already written into an earlier kit. @defaultValue false */
  includeExported?: boolean;
  /** Most rows in one kit. @defaultValue 100 000 */
  maxEntries?: number;
  /** @defaultValue () => new Date() */
  now?: () => Date;
}

/** A row left out of the kit, and why. */
export interface SkippedRow {
  id: string;
  contentDigest: string;
  /** `unsigned`: no envelope and no signing key; `sign_failed`: the statement could not be signed. */
  reason: 'unsigned' | 'sign_failed';
  message: string;
}

export interface ExportKitReport {
  dir: string;
  manifest: KitManifest;
  /** Rows signed by this export (they had no envelope yet). */
  signed: number;
  skipped: SkippedRow[];
}

async function checkOut(outDir: string): Promise<void> {
  let isEmptyDir = false;
  try {
    const s = await stat(outDir);
    isEmptyDir = s.isDirectory() && (await readdir(outDir)).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new OfflineKitError('KIT_UNWRITABLE', `cannot use ${outDir} for the kit`, { cause: e });
  }
  if (!isEmptyDir) {
    throw new OfflineKitError('KIT_EXISTS', `${outDir} already exists; choose a new --out for the kit`);
  }
  await rmdir(outDir);
}

/**
 * Signs, once, every row that waits without an envelope, and stores the
 * envelope in the row before it can leave the site: a kit exported twice
 * carries the same bytes, so the log never gets a second entry.
 */
async function signPending(
  db: Kysely<Database>,
  signer: Signer | undefined,
  maxPayloadBytes: number | undefined,
  limit: number,
): Promise<{ signed: number; skipped: SkippedRow[] }> {
  const offline = new OfflineQueue(db);
  return db.transaction().execute(async (trx) => {
    const rows = await offline.claim(trx, limit, { signed: false });
    const skipped: SkippedRow[] = [];
    let signed = 0;
    for (const row of rows) {
      if (!signer) {
        skipped.push({
          id: row.id,
          contentDigest: row.content_digest,
          reason: 'unsigned',
          message: 'no envelope yet and no signing key; set attestor.rekor.signing.keyPath and export again',
        });
        continue;
      }
      try {
        const envelope = signEnvelope(buildStatement(submissionOf(OfflineQueue.decode(row))), signer, {
          ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
        });
        await offline.setEnvelope(trx, row.id, envelope);
        signed += 1;
      } catch (e) {
        if (!(e instanceof RekorError)) throw e;
        skipped.push({
          id: row.id,
          contentDigest: row.content_digest,
          reason: 'sign_failed',
          message: `${e.message} [${e.code}]`,
        });
      }
    }
    return { signed, skipped };
  });
}

function entryOf(row: OfflineRow, bytes: Buffer): KitEntry {
  const contentDigest = row.content_digest as Sha256Digest;
  return {
    id: row.id,
    tenantId: row.tenant_id,
    tier: row.tier,
    contentDigest,
    file: envelopeFileOf(contentDigest),
    sha256: sha256(bytes),
    queuedAt: row.created_at.toISOString(),
    ...(row.priority === 0 ? {} : { priority: row.priority }),
  };
}

/**
 * Writes the pending attestations of the offline queue into a
 * new kit directory and marks the rows exported (`exported_at`), in one
 * transaction that locks the rows (`FOR UPDATE SKIP LOCKED`). The rows stay
 * in the table until their receipts come back. The kit appears under
 * `outDir` complete or not at all.
 */
export async function exportKit(options: ExportKitOptions): Promise<ExportKitReport> {
  const { db, outDir } = options;
  const now = options.now ?? (() => new Date());
  const limit = options.maxEntries ?? 100_000;
  await checkOut(outDir);
  const pending = await signPending(db, options.signer, options.maxPayloadBytes, limit);
  const staging = join(dirname(outDir), `.${basename(outDir)}.partial-${randomBytes(4).toString('hex')}`);
  try {
    const offline = new OfflineQueue(db);
    const manifest = await db.transaction().execute(async (trx) => {
      const rows = await offline.claim(trx, limit, {
        ...(options.includeExported ? {} : { exported: false }),
      });
      const signedRows = rows.filter((r) => r.envelope !== null);
      await mkdir(join(staging, ENVELOPE_DIR), { recursive: true });
      const entries: KitEntry[] = [];
      for (const row of signedRows) {
        const entry = entryOf(row, row.envelope!);
        await writeFile(join(staging, entry.file), row.envelope!);
        entries.push(entry);
      }
      const at = now();
      const manifest = sealManifest({
        kind: KIT_KIND,
        formatVersion: KIT_FORMAT_VERSION,
        createdAt: at.toISOString(),
        site: { ...options.site, name: options.site.name ?? hostname() },
        entries,
      });
      await writeFile(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
      await offline.markExported(
        trx,
        entries.map((e) => e.id),
        at,
      );
      // before the commit: if the commit fails, the rows are simply exported again
      await rename(staging, outDir);
      return manifest;
    });
    return { dir: outDir, manifest, signed: pending.signed, skipped: pending.skipped };
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    if (e instanceof OfflineKitError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      throw new OfflineKitError('KIT_UNWRITABLE', `cannot write the kit to ${outDir} (${code})`, {
        cause: e,
      });
    }
    throw e;
  }
}

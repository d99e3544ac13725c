export { OfflineKitError } from './error';
export type { OfflineKitErrorCode } from './error';

export {
  KIT_KIND,
  KIT_FORMAT_VERSION,
  MANIFEST_FILE,
  ENVELOPE_DIR,
  envelopeFileOf,
  parseManifest,
} from './manifest';
export type { KitManifest, KitEntry, KitSite } from './manifest';

export { exportKit } from './export-kit';
export type { ExportKitOptions, ExportKitReport, SkippedRow } from './export-kit';

export { readKit } from './read-kit';
export type { VerifiedKit, ReadKitOptions } from './read-kit';

export { DEFAULT_KIT_LIMITS } from './files';
export type { KitLimits } from './files';

export { checkEnvelope, inputOfStatement, TrustedKeys } from './envelope-check';
export type { ExpectedAttestation } from './envelope-check';

export { importKit, awaitKitReceipts } from './import-kit';
export type {
  ImportKitOptions,
  ImportKitReport,
  ImportedEntry,
  ImportStatus,
  KitSubmitter,
  KitSubmitResult,
  AwaitKitReceiptsOptions,
  AwaitKitReceiptsResult,
} from './import-kit';

export { RECEIPTS_KIND, RECEIPTS_FORMAT_VERSION, parseReceiptsFile } from './receipts-file';
export type { ReceiptsFile, ReceiptRecord } from './receipts-file';

export { exportReceipts, importReceipts } from './receipts-transfer';
export type { ExportReceiptsOptions, ImportReceiptsOptions, ImportReceiptsReport } from './receipts-transfer';

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OfflineQueue } from '@rekor-budget/queue';
import { writeKeyPair } from '@rekor-budget/rekor';
import {
  exportKit,
  exportReceipts,
  importKit,
  importReceipts,
  OfflineKitError,
  parseReceiptsFile,
} from '@rekor-budget/offline-kit';
import { createSites, edgeSubmission, graphSubmission, snapshot, TENANT, type Sites } from './helpers';

const retry = { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1, backoffMultiplier: 1 };
let s: Sites;
let text: string;

beforeAll(async () => {
  s = await createSites();
  await s.addAirGapped(graphSubmission('r-1'));
  await s.addAirGapped(edgeSubmission('r-2'));
  const kit = join(s.dir, 'kit');
  await exportKit({
    db: s.gapped.db,
    outDir: kit,
    site: { logUrl: s.rekor.url, apiVersion: 1, entryKind: 'dsse' },
  });
  await importKit({ db: s.connected.db, kitDir: kit, client: s.client, retry });
  text = JSON.stringify(await exportReceipts({ db: s.connected.db }));
});
afterAll(async () => {
  await s.close();
});

async function refused(fileText: string, extra: { trustedRoot?: unknown; publicKeyPem?: string } = {}) {
  const before = await snapshot(s.gapped);
  const err = await importReceipts({ db: s.gapped.db, text: fileText, ...extra }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OfflineKitError);
  expect(await snapshot(s.gapped)).toEqual(before);
  return (err as OfflineKitError).code;
}

describe('receipts files', () => {
  test('exportReceipts filters by tenant and time', async () => {
    expect(parseReceiptsFile(text).receipts).toHaveLength(2);
    const other = await exportReceipts({
      db: s.connected.db,
      tenantId: '00000000-0000-4000-8000-000000000000',
    });
    expect(other.receipts).toHaveLength(0);
    const future = await exportReceipts({ db: s.connected.db, since: new Date(Date.now() + 60_000) });
    expect(future.receipts).toHaveLength(0);
    const mine = await exportReceipts({ db: s.connected.db, tenantId: TENANT, since: new Date(0) });
    expect(mine.receipts).toHaveLength(2);
  });

  test('a tampered file is refused (RECEIPTS_DIGEST_MISMATCH), nothing written', async () => {
    const doc = JSON.parse(text);
    doc.receipts[0].logIndex += 1;
    expect(await refused(JSON.stringify(doc))).toBe('RECEIPTS_DIGEST_MISMATCH');
  });

  test('a truncated file is refused (RECEIPTS_INVALID), nothing written', async () => {
    expect(await refused(text.slice(0, text.length - 40))).toBe('RECEIPTS_INVALID');
  });

  test('bundles that do not verify under the given key are refused (BUNDLE_UNVERIFIED), nothing written', async () => {
    const other = await writeKeyPair(join(s.dir, 'other.pem'));
    const code = await refused(text, {
      trustedRoot: s.rekor.trustedRoot(),
      publicKeyPem: readFileSync(other.publicKeyPath, 'utf8'),
    });
    expect(code).toBe('BUNDLE_UNVERIFIED');
  });

  test('a good file: bundles verified, receipts stored, air-gapped rows closed; again: nothing new', async () => {
    const file = join(s.dir, 'receipts.json');
    writeFileSync(file, text);
    const report = await importReceipts({
      db: s.gapped.db,
      text: readFileSync(file, 'utf8'),
      trustedRoot: s.rekor.trustedRoot(),
      publicKeyPem: s.publicKeyPem,
    });
    expect(report).toEqual({ receipts: 2, stored: 2, closed: 2, verified: 2 });
    expect(await new OfflineQueue(s.gapped.db).list()).toEqual([]);
    const again = await importReceipts({ db: s.gapped.db, text });
    expect(again).toEqual({ receipts: 2, stored: 0, closed: 0, verified: 0 });
  });
});

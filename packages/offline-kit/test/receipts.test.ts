import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '@rekor-budget/core';
import { OfflineQueue, submissionOf } from '@rekor-budget/queue';
import { buildStatement, writeKeyPair } from '@rekor-budget/rekor';
import {
  exportKit,
  exportReceipts,
  importReceipts,
  OfflineKitError,
  parseReceiptsFile,
  type ReceiptsFile,
} from '@rekor-budget/offline-kit';
import { createSites, edgeSubmission, graphSubmission, snapshot, TENANT, type Sites } from './helpers';

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
  await s.logKit(kit);
  text = JSON.stringify(await exportReceipts({ db: s.connected.db }));
});
afterAll(async () => {
  await s.close();
});

/** The trusted root and key of the good import. */
const trust = () => ({ trustedRoot: s.rekor.trustedRoot(), publicKeyPem: s.publicKeyPem });

async function refused(
  fileText: string,
  extra: { trustedRoot?: unknown; publicKeyPem?: string; skipVerification?: boolean } = trust(),
) {
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

  test('finding 4: a forged receipt for a row never logged is refused unless --no-verify is explicit', async () => {
    // an air-gapped attestation that never reached any log
    const pending = graphSubmission('never-logged');
    await s.addAirGapped(pending);
    const statement = Buffer.from(canonicalJson(buildStatement(submissionOf(pending)))).toString('base64');
    // a receipt for it: a real bundle of another entry, with the pending statement put in
    const doc = JSON.parse(text) as ReceiptsFile;
    const real = doc.receipts[0]!;
    const bundle = structuredClone(real.bundle) as { dsseEnvelope: { payload: string } };
    bundle.dsseEnvelope.payload = statement;
    const forged: Omit<ReceiptsFile, 'digest'> & { digest?: string } = {
      ...doc,
      receipts: [{ ...real, contentDigest: pending.contentDigest, bundle }],
    };
    delete forged.digest;
    const sealed = JSON.stringify({
      ...forged,
      digest: `sha256:${createHash('sha256').update(canonicalJson(forged)).digest('hex')}`,
    });

    expect(await refused(sealed, {})).toBe('VERIFICATION_REQUIRED');
    expect(await refused(sealed)).toBe('BUNDLE_UNVERIFIED');
    const rows = () => new OfflineQueue(s.gapped.db).list();
    expect((await rows()).map((r) => r.content_digest)).toContain(pending.contentDigest);

    // the operator's explicit choice: stored unchecked
    const unchecked = await importReceipts({ db: s.gapped.db, text: sealed, skipVerification: true });
    expect(unchecked).toMatchObject({ stored: 1, closed: 1, verified: 0 });
    expect((await rows()).map((r) => r.content_digest)).not.toContain(pending.contentDigest);
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
    const again = await importReceipts({ db: s.gapped.db, text, ...trust() });
    expect(again).toEqual({ receipts: 2, stored: 0, closed: 0, verified: 2 });
  });
});

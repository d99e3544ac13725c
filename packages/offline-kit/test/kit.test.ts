import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { canonicalJson, createRedisKeys, type SignedEnvelope } from '@rekor-budget/core';
import { createRekorProducer, type RekorProducer } from '@rekor-budget/producer';
import { createTestRedis, deleteKeys, testConfig, uniquePrefix } from '@rekor-budget/testing';
import { createEnvelopeStore, createReceiptStore, jobIdFor, OfflineQueue } from '@rekor-budget/queue';
import { buildStatement, loadSigner, signEnvelope, writeKeyPair, type Statement } from '@rekor-budget/rekor';
import {
  exportKit,
  importKit,
  MANIFEST_FILE,
  OfflineKitError,
  readKit,
  type KitLimits,
  type KitManifest,
} from '@rekor-budget/offline-kit';
import { createSites, edgeSubmission, graphSubmission, snapshot, TENANT, type Sites } from './helpers';

const site = {
  logUrl: 'http://rekor.invalid',
  apiVersion: 1 as const,
  entryKind: 'dsse' as const,
  name: 'lab',
};
let s: Sites;
let kit: string;
let redis: Redis;
let producer: RekorProducer;
const prefix = uniquePrefix('kit');
const keys = createRedisKeys(prefix);

/** Job ids in both tier queues. */
async function queuedJobs(): Promise<string[]> {
  const ids: string[] = [];
  for (const tier of ['graph', 'edge'] as const) {
    const queue = new Queue(keys.queueName(tier), { connection: redis, prefix: keys.queuePrefix(tier) });
    ids.push(...(await queue.getJobs(['waiting', 'prioritized', 'delayed'])).map((j) => j.id ?? '?'));
    await queue.close();
  }
  return ids.sort();
}
let seq = 0;
const newDir = () => join(s.dir, `kit-${++seq}`);

beforeAll(async () => {
  s = await createSites();
  redis = createTestRedis();
  producer = createRekorProducer({
    config: testConfig({ prefix, databaseUrl: s.connected.url, tier: 'with-edges' }),
    db: s.connected.db,
    redis,
  });
  await s.addAirGapped(graphSubmission('scan-1'));
  await s.addAirGapped(graphSubmission('scan-2'));
  await s.addAirGapped(edgeSubmission('scan-3'));
  kit = newDir();
  await exportKit({ db: s.gapped.db, outDir: kit, site });
});
afterAll(async () => {
  await producer.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
  await s.close();
});

/** A copy of the good kit, changed by `tamper`. */
function tamperedCopy(tamper: (dir: string, manifest: KitManifest) => void): string {
  const dir = newDir();
  cpSync(kit, dir, { recursive: true });
  tamper(dir, JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as KitManifest);
  return dir;
}

async function refused(
  dir: string,
  more: { trustedKeys?: string[]; limits?: Partial<KitLimits> } = {},
): Promise<string> {
  const before = await snapshot(s.connected);
  const jobs = await queuedJobs();
  const err = await importKit({
    db: s.connected.db,
    kitDir: dir,
    producer,
    trustedKeys: [s.publicKeyPem],
    ...more,
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OfflineKitError);
  expect(await snapshot(s.connected)).toEqual(before);
  expect(await queuedJobs()).toEqual(jobs);
  return (err as OfflineKitError).code;
}

describe('exportKit', () => {
  test('writes every air-gapped row with its envelope and sha256, and marks the rows exported', async () => {
    const verified = await readKit(kit, { trustedKeys: [s.publicKeyPem] });
    expect(verified.manifest.entries).toHaveLength(3);
    expect(verified.manifest.site).toEqual(site);
    const rows = await new OfflineQueue(s.gapped.db).list();
    expect(rows.every((r) => r.exported_at !== null && r.reason === 'air_gapped')).toBe(true);
    for (const e of verified.manifest.entries) {
      const row = rows.find((r) => r.id === e.id)!;
      expect(readFileSync(join(kit, e.file))).toEqual(row.envelope);
      expect(e).toMatchObject({ tenantId: row.tenant_id, tier: row.tier, contentDigest: row.content_digest });
    }
  });

  test('an exported row is left out of the next kit unless includeExported', async () => {
    const again = await exportKit({ db: s.gapped.db, outDir: newDir(), site });
    expect(again.manifest.entries).toHaveLength(0);
    const all = await exportKit({ db: s.gapped.db, outDir: newDir(), site, includeExported: true });
    expect(all.manifest.entries.map((e) => e.sha256).sort()).toEqual(
      (await readKit(kit, { trustedKeys: [s.publicKeyPem] })).manifest.entries.map((e) => e.sha256).sort(),
    );
  });

  test('refuses an --out that exists (KIT_EXISTS)', async () => {
    await expect(exportKit({ db: s.gapped.db, outDir: kit, site })).rejects.toMatchObject({
      code: 'KIT_EXISTS',
    });
  });

  test('rows without an envelope: skipped without a signer, signed once (and kept) with one', async () => {
    const queue = new OfflineQueue(s.gapped.db);
    const data = graphSubmission('overflow-1');
    await queue.add(data, 'overflow');
    const skipped = await exportKit({ db: s.gapped.db, outDir: newDir(), site });
    expect(skipped.skipped).toEqual([
      expect.objectContaining({ contentDigest: data.contentDigest, reason: 'unsigned' }),
    ]);
    expect(skipped.manifest.entries).toHaveLength(0);

    const first = await exportKit({ db: s.gapped.db, outDir: newDir(), site, signer: s.signer });
    expect(first.signed).toBe(1);
    expect(first.manifest.entries.map((e) => e.contentDigest)).toEqual([data.contentDigest]);
    const again = await exportKit({
      db: s.gapped.db,
      outDir: newDir(),
      site,
      signer: s.signer,
      includeExported: true,
    });
    const entry = again.manifest.entries.find((e) => e.contentDigest === data.contentDigest)!;
    expect(again.signed).toBe(0);
    expect(entry.sha256).toBe(first.manifest.entries[0]!.sha256);
    await queue.delete(s.gapped.db, [entry.id]);
  });
});

describe('importKit refuses a damaged kit before writing anything', () => {
  test('a tampered envelope file: FILE_DIGEST_MISMATCH', async () => {
    const dir = tamperedCopy((d, m) => {
      const f = join(d, m.entries[0]!.file);
      writeFileSync(f, readFileSync(f, 'utf8').replace('"ecdsa-p256"', '"ed25519"'));
    });
    expect(await refused(dir)).toBe('FILE_DIGEST_MISMATCH');
  });

  test('a tampered manifest: MANIFEST_DIGEST_MISMATCH', async () => {
    const dir = tamperedCopy((d, m) => {
      m.entries[0]!.tenantId = '00000000-0000-4000-8000-000000000000';
      writeFileSync(join(d, MANIFEST_FILE), JSON.stringify(m));
    });
    expect(await refused(dir)).toBe('MANIFEST_DIGEST_MISMATCH');
  });

  test('a truncated manifest: MANIFEST_INVALID', async () => {
    const dir = tamperedCopy((d) => {
      const f = join(d, MANIFEST_FILE);
      writeFileSync(f, readFileSync(f).subarray(0, 200));
    });
    expect(await refused(dir)).toBe('MANIFEST_INVALID');
  });

  test('a truncated kit (an envelope file missing): FILE_MISSING', async () => {
    const dir = tamperedCopy((d, m) => unlinkSync(join(d, m.entries[2]!.file)));
    expect(await refused(dir)).toBe('FILE_MISSING');
  });

  test('a truncated envelope file: FILE_DIGEST_MISMATCH', async () => {
    const dir = tamperedCopy((d, m) => {
      const f = join(d, m.entries[1]!.file);
      writeFileSync(f, readFileSync(f).subarray(0, 50));
    });
    expect(await refused(dir)).toBe('FILE_DIGEST_MISMATCH');
  });

  test('an extra file: FILE_UNEXPECTED', async () => {
    const dir = tamperedCopy((d) => appendFileSync(join(d, 'envelopes', 'notes.txt'), 'hello'));
    expect(await refused(dir)).toBe('FILE_UNEXPECTED');
  });

  test('an envelope re-written with consistent digests but a forged payload: ENVELOPE_INVALID', async () => {
    const dir = tamperedCopy((d, m) => {
      const e = m.entries[0]!;
      const f = join(d, e.file);
      const signed = JSON.parse(readFileSync(f, 'utf8'));
      const statement = JSON.parse(Buffer.from(signed.envelope.payload, 'base64').toString('utf8'));
      statement.predicate.scanner.version = '6.6.6';
      const payload = Buffer.from(canonicalJson(statement));
      signed.envelope.payload = payload.toString('base64');
      signed.payloadDigest = `sha256:${createHash('sha256').update(payload).digest('hex')}`;
      writeFileSync(f, JSON.stringify(signed));
      e.sha256 = `sha256:${createHash('sha256').update(readFileSync(f)).digest('hex')}`;
      const { manifestDigest: _d, ...body } = m;
      m.manifestDigest = `sha256:${createHash('sha256').update(canonicalJson(body)).digest('hex')}`;
      writeFileSync(join(d, MANIFEST_FILE), JSON.stringify(m));
    });
    expect(await refused(dir)).toBe('ENVELOPE_INVALID');
  });

  test('a kit directory that does not exist: KIT_NOT_FOUND', async () => {
    expect(await refused(join(s.dir, 'nowhere'))).toBe('KIT_NOT_FOUND');
  });
});

/** Re-seals a kit after its envelope files changed: each file's sha256, then the manifest's digest. */
function reseal(d: string, m: KitManifest): void {
  for (const e of m.entries)
    e.sha256 = `sha256:${createHash('sha256')
      .update(readFileSync(join(d, e.file)))
      .digest('hex')}`;
  const { manifestDigest: _d, ...body } = m;
  m.manifestDigest = `sha256:${createHash('sha256').update(canonicalJson(body)).digest('hex')}`;
  writeFileSync(join(d, MANIFEST_FILE), JSON.stringify(m));
}

describe('finding 3: a kit is trusted only under the signing keys the operator gives', () => {
  test('a kit whose envelope an attacker re-signed with their own key (all digests consistent): KEY_UNTRUSTED', async () => {
    const attacker = await loadSigner({
      keyPath: (await writeKeyPair(join(s.dir, 'attacker.pem'))).privateKeyPath,
    });
    const dir = tamperedCopy((d, m) => {
      const e = m.entries[0]!;
      const f = join(d, e.file);
      const signed = JSON.parse(readFileSync(f, 'utf8')) as SignedEnvelope;
      const statement = JSON.parse(
        Buffer.from(signed.envelope.payload, 'base64').toString('utf8'),
      ) as Statement;
      statement.predicate.scanner.version = '6.6.6';
      const forged = signEnvelope(statement, attacker);
      writeFileSync(f, JSON.stringify(forged));
      reseal(d, m);
    });
    expect(await refused(dir)).toBe('KEY_UNTRUSTED');
    // the kit is self-consistent: trusting the key it carries, only the content check is left
    expect(await refused(dir, { trustedKeys: [s.publicKeyPem, attacker.publicKeyPem] })).toBe(
      'CONTENT_DIGEST_MISMATCH',
    );
  });

  test('no key to check against: KEY_REQUIRED; a key that is not a PEM public key: KEY_INVALID', async () => {
    expect(await refused(kit, { trustedKeys: [] })).toBe('KEY_REQUIRED');
    expect(await refused(kit, { trustedKeys: ['not a key'] })).toBe('KEY_INVALID');
  });
});

describe('finding 7: kit files are read as plain files, within limits', () => {
  test('an envelope that is a symlink to /dev/zero: FILE_NOT_REGULAR, at once', async () => {
    const dir = tamperedCopy((d, m) => {
      const f = join(d, m.entries[0]!.file);
      unlinkSync(f);
      symlinkSync('/dev/zero', f);
    });
    const started = process.memoryUsage().rss;
    expect(await refused(dir)).toBe('FILE_NOT_REGULAR');
    expect(process.memoryUsage().rss - started).toBeLessThan(256 * 1024 * 1024);
  });

  test('a manifest that is a FIFO: FILE_NOT_REGULAR, without waiting for a writer', async () => {
    const dir = tamperedCopy((d) => {
      unlinkSync(join(d, MANIFEST_FILE));
      execFileSync('mkfifo', [join(d, MANIFEST_FILE)]);
    });
    expect(await refused(dir)).toBe('FILE_NOT_REGULAR');
  });

  test('a manifest that is a symlink to a good manifest elsewhere: FILE_NOT_REGULAR', async () => {
    const dir = tamperedCopy((d) => {
      unlinkSync(join(d, MANIFEST_FILE));
      symlinkSync(join(kit, MANIFEST_FILE), join(d, MANIFEST_FILE));
    });
    expect(await refused(dir)).toBe('FILE_NOT_REGULAR');
  });

  test('the envelopes directory as a symlink: FILE_NOT_REGULAR', async () => {
    const dir = tamperedCopy((d) => {
      rmSync(join(d, 'envelopes'), { recursive: true });
      symlinkSync(join(kit, 'envelopes'), join(d, 'envelopes'));
    });
    expect(await refused(dir)).toBe('FILE_NOT_REGULAR');
  });

  test('an envelope over the per-file limit: FILE_TOO_LARGE; a kit over the per-kit limit: KIT_TOO_LARGE', async () => {
    const dir = tamperedCopy((d, m) => {
      appendFileSync(join(d, m.entries[0]!.file), ' '.repeat(64 * 1024));
      reseal(d, m);
    });
    expect(await refused(dir, { limits: { maxEnvelopeBytes: 32 * 1024 } })).toBe('FILE_TOO_LARGE');
    expect(await refused(dir, { limits: { maxKitBytes: 16 * 1024 } })).toBe('KIT_TOO_LARGE');
    expect(await refused(kit, { limits: { maxManifestBytes: 100 } })).toBe('FILE_TOO_LARGE');
  });
});

describe('importKit', () => {
  test('a row whose content digest differs from its statement is refused: CONTENT_DIGEST_MISMATCH', async () => {
    const queue = new OfflineQueue(s.gapped.db);
    const real = graphSubmission('mislabelled');
    const other = graphSubmission('other');
    const { enqueuedAt: _e, ...submission } = real;
    const envelope = signEnvelope(buildStatement(submission), s.signer);
    const row = await queue.add({ ...real, contentDigest: other.contentDigest, envelope }, 'air_gapped');
    const dir = newDir();
    await exportKit({ db: s.gapped.db, outDir: dir, site });
    await queue.delete(s.gapped.db, [row.id]);
    expect(await refused(dir)).toBe('CONTENT_DIGEST_MISMATCH');
  });

  test('queues every entry in its tier queue with the kit envelope stored as the content envelope; a second import queues nothing twice', async () => {
    const first = await importKit({
      db: s.connected.db,
      kitDir: kit,
      producer,
      trustedKeys: [s.publicKeyPem],
    });
    expect(first.counts).toEqual({ queued: 3, overflowed: 0, pending: 0, logged: 0, rejected: 0, failed: 0 });
    const manifest = JSON.parse(readFileSync(join(kit, MANIFEST_FILE), 'utf8')) as KitManifest;
    const store = createEnvelopeStore(s.connected.db);
    for (const entry of manifest.entries) {
      // the workers send exactly the bytes the air-gapped site signed
      const fromKit = JSON.parse(readFileSync(join(kit, entry.file), 'utf8')) as SignedEnvelope;
      expect(await store.get(entry.contentDigest)).toEqual(fromKit);
    }
    const jobIds = manifest.entries.map((e) => jobIdFor(e.tier, e.contentDigest)).sort();
    expect(await queuedJobs()).toEqual(jobIds);
    expect(first.entries.map((e) => e.status === 'queued' && e.kitEnvelope)).toEqual([true, true, true]);

    // the job is the air-gapped submission, rebuilt from its signed statement, priority kept
    const graph = new Queue(keys.queueName('graph'), {
      connection: redis,
      prefix: keys.queuePrefix('graph'),
    });
    const job = await graph.getJob(jobIdFor('graph', graphSubmission('scan-1').contentDigest));
    await graph.close();
    const { enqueuedAt: _e, ...expected } = graphSubmission('scan-1');
    expect(job?.data).toMatchObject(expected);

    const second = await importKit({
      db: s.connected.db,
      kitDir: kit,
      producer,
      trustedKeys: [s.publicKeyPem],
    });
    expect(second.counts).toMatchObject({ queued: 0, pending: 3 });
    expect(await queuedJobs()).toEqual(jobIds);
  });

  test('a content this site logged already is reported logged with its receipt, and not queued', async () => {
    await s.addAirGapped(graphSubmission('logged-here'));
    const dir = newDir();
    await exportKit({ db: s.gapped.db, outDir: dir, site });
    const digest = graphSubmission('logged-here').contentDigest;
    await createReceiptStore(s.connected.db).save({
      tenantId: TENANT,
      tier: 'graph',
      contentDigest: digest,
      uuid: 'ab'.repeat(32),
      logIndex: 41,
      integratedTime: new Date(1_700_000_000_000),
      logId: 'cd'.repeat(32),
      logUrl: 'http://rekor.example',
      bundle: null,
    });
    const jobs = await queuedJobs();
    const report = await importKit({
      db: s.connected.db,
      kitDir: dir,
      producer,
      trustedKeys: [s.publicKeyPem],
    });
    expect(report.entries).toEqual([
      expect.objectContaining({
        contentDigest: digest,
        status: 'logged',
        logIndex: 41,
        uuid: 'ab'.repeat(32),
      }),
    ]);
    expect(await queuedJobs()).toEqual(jobs);
  });

  test('an edge entry this site would not escalate: failed with the producer code, nothing queued, and the kit can be imported again', async () => {
    await s.addAirGapped(edgeSubmission('not-escalated-here'));
    const dir = newDir();
    await exportKit({ db: s.gapped.db, outDir: dir, site });
    const strict = createRekorProducer({
      // no trigger fires for a manual escalation with this site's triggers
      config: testConfig({
        prefix,
        databaseUrl: s.connected.url,
        tier: 'with-edges',
        edgeBundles: { triggers: [{ manualEscalation: false }] },
      }),
      db: s.connected.db,
      redis,
    });
    const jobs = await queuedJobs();
    try {
      const report = await importKit({
        db: s.connected.db,
        kitDir: dir,
        producer: strict,
        trustedKeys: [s.publicKeyPem],
      });
      expect(report.counts).toMatchObject({ failed: 1, queued: 0 });
      expect(report.entries[0]).toMatchObject({ status: 'failed', code: expect.stringMatching(/^[A-Z_]+$/) });
      expect(await queuedJobs()).toEqual(jobs);
    } finally {
      await strict.close();
    }
    const again = await importKit({
      db: s.connected.db,
      kitDir: dir,
      producer,
      trustedKeys: [s.publicKeyPem],
    });
    expect(again.counts).toMatchObject({ queued: 1, failed: 0 });
  });
});

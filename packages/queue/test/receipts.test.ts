import type { Receipt } from '@rekor-budget/core';
import { createReceiptStore } from '@rekor-budget/queue';
import { createTestDatabase, testDigest, type TestDatabase } from '@rekor-budget/testing';

const TENANT = '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b';
const D = (seed: string) => testDigest(seed) as Receipt['contentDigest'];

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

function receipt(patch: Partial<Receipt> = {}): Receipt {
  return {
    tenantId: TENANT,
    tier: 'graph',
    contentDigest: D('1'),
    uuid: `24296fb24b8ad77a${'e'.repeat(64)}`,
    logIndex: 7,
    integratedTime: new Date('2025-12-20T10:00:01.000Z'),
    logId: 'ab'.repeat(32),
    logUrl: 'http://127.0.0.1:3001',
    bundle: { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' },
    ...patch,
  };
}

describe('receipt store', () => {
  test('save is idempotent per (content digest, log url)', async () => {
    const store = createReceiptStore(t.db);
    expect(await store.save(receipt())).toBe(true);
    expect(await store.save(receipt({ uuid: 'another', logIndex: 8 }))).toBe(false);
    expect(await store.find(D('1'), 'http://127.0.0.1:3001')).toMatchObject({ logIndex: 7 });
    expect(await store.count()).toBe(1);
    // the same submission in another log is another receipt
    expect(await store.save(receipt({ logUrl: 'http://127.0.0.1:3002' }))).toBe(true);
  });

  test('find returns the receipt as saved, bundle included', async () => {
    const store = createReceiptStore(t.db);
    await store.save(receipt({ contentDigest: D('2'), logIndex: 9 }));
    expect(await store.find(D('2'), 'http://127.0.0.1:3001')).toEqual(
      receipt({ contentDigest: D('2'), logIndex: 9 }),
    );
    expect(await store.find(D('2'), 'http://elsewhere')).toBeUndefined();
  });

  test('list filters by tenant and honours the limit', async () => {
    const store = createReceiptStore(t.db);
    const other = '00000000-0000-4000-8000-000000000001';
    await store.save(receipt({ tenantId: other, contentDigest: D('3') }));
    const mine = await store.list({ tenantId: TENANT, limit: 100 });
    expect(mine.length).toBeGreaterThanOrEqual(3);
    expect(mine.every((r) => r.tenantId === TENANT)).toBe(true);
    expect(await store.list({ tenantId: other, limit: 10 })).toHaveLength(1);
    expect(await store.list({ limit: 2 })).toHaveLength(2);
  });

  test('has sees a receipt from any log; list orders newest or oldest first, and since filters', async () => {
    const store = createReceiptStore(t.db);
    expect(await store.has(D('1'))).toBe(true);
    expect(await store.has(D('never'))).toBe(false);
    const all = await store.list({ limit: null });
    expect(all).toHaveLength(await store.count());
    const oldest = await store.list({ limit: null, order: 'oldest' });
    expect(oldest.map((r) => r.contentDigest)).toEqual(all.map((r) => r.contentDigest).reverse());
    expect(await store.list({ since: new Date(Date.now() + 60_000) })).toEqual([]);
  });
});

import { contentDigest, validateGraphInput } from '@rekor-budget/core';
import {
  contentPlaces,
  createReceiptStore,
  OfflineQueue,
  ParkingLot,
  RejectedStore,
  type SubmissionJobData,
} from '@rekor-budget/queue';
import { createTestDatabase, graphInput, type TestDatabase } from '@rekor-budget/testing';

const A = '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b';
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

function job(scanId: string): SubmissionJobData {
  const input = validateGraphInput(graphInput(A, scanId));
  return { version: 1, tier: 'graph', contentDigest: contentDigest('graph', input), input, enqueuedAt: 1 };
}

const rejection = { reason: 'rejected' as const, message: 'no', logUrl: 'http://rekor' };

describe('contentPlaces', () => {
  test('one query finds each content in the receipts, the offline queue, the parked jobs and the rejected table', async () => {
    const [logged, offline, parked, rejected, both, unknown] = [
      'logged',
      'offline',
      'parked',
      'rejected',
      'both',
      'unknown',
    ].map(job);
    const receipt = (d: SubmissionJobData) =>
      createReceiptStore(t.db).save({
        tenantId: A,
        tier: 'graph',
        contentDigest: d.contentDigest,
        uuid: d.contentDigest,
        logIndex: 1,
        integratedTime: new Date(),
        logId: 'l',
        logUrl: 'http://rekor',
        bundle: {},
      });
    await receipt(logged!);
    await new OfflineQueue(t.db).add(offline!, 'overflow');
    await new ParkingLot(t.db).park([parked!]);
    await new RejectedStore(t.db).add(rejected!, rejection);
    // logged and refused earlier too: logged answers first
    await receipt(both!);
    await new RejectedStore(t.db).add(both!, rejection);

    const places = await contentPlaces(
      t.db,
      [logged, offline, parked, rejected, both, unknown].map((d) => d!.contentDigest),
    );
    expect(Object.fromEntries(places)).toEqual({
      [logged!.contentDigest]: 'logged',
      [offline!.contentDigest]: 'offline',
      [parked!.contentDigest]: 'offline',
      [rejected!.contentDigest]: 'rejected',
      [both!.contentDigest]: 'logged',
    });
    expect(places.has(unknown!.contentDigest)).toBe(false);
    expect((await contentPlaces(t.db, [])).size).toBe(0);
  });
});

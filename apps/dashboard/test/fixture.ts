import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { contentDigest, validateGraphInput, type RekorConfig } from '@rekor-budget/core';
import { createRekorProducer, type RekorProducer } from '@rekor-budget/producer';
import { loadSigner, writeKeyPair } from '@rekor-budget/rekor';
import { startRekorLocal, type RekorLocalServer } from '@rekor-budget/rekor-local';
import { createRuntime, type Runtime } from '@rekor-budget/runtime';
import { jobIdFor, SUBMISSION_JOB, submissionJobOptions } from '@rekor-budget/queue';
import { createTestRedis, createTestServices, graphInput, waitFor } from '@rekor-budget/testing';
import { createTierWorker } from '@rekor-budget/worker';

export const USER = 'operator';
export const PASSWORD = 'correct horse battery';
/** Display names of the fixture's tenants (the configuration's `tenants:` map). */
export const BUSY_NAME = 'busy-co';
export const QUIET_NAME = 'quiet-co';

/** A running pipeline with real data, as an operator would find it. */
export interface Fixture {
  config: RekorConfig;
  /** The runtime the dashboard under test is given. */
  runtime: Runtime;
  rekor: RekorLocalServer;
  /**
   * Over budget: 2 jobs went through (burst cap 2), 3 wait parked for budget,
   * 3 wait delayed for a retry, 1 offline row.
   */
  busyTenant: string;
  /** 1 job went through. */
  quietTenant: string;
  /** Log indexes of the receipts, per tenant. */
  logIndexes(tenantId: string): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * rekor-local, a fresh database and key prefix, a producer and a graph worker,
 * with a budget small enough that a few jobs wait: hourly 3, burst 12/h over
 * 10 min (2 per burst window).
 */
export async function createFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'rb-dashboard-'));
  const s = await createTestServices('dash');
  const workerRedis: Redis = createTestRedis();
  const rekor = await startRekorLocal({ port: 0, dataDir: join(dir, 'log'), fsync: false });
  const key = await writeKeyPair(join(dir, 'signing.pem'));
  const busyTenant = randomUUID();
  const quietTenant = randomUUID();
  const config = s.config({
    tenants: { [busyTenant]: BUSY_NAME, [quietTenant]: QUIET_NAME },
    serverUrl: rekor.url,
    signing: { keyPath: key.privateKeyPath },
    budget: { hourlyLimit: 3, burstLimit: 12, burstWindow: '00:10:00' },
    requestTimeout: '00:00:02',
    dashboard: { user: USER, password: PASSWORD },
  });
  const runtime = await createRuntime({ config, name: 'rekor-budget-test', clock: Date.now });
  const producer: RekorProducer = createRekorProducer({ config, redis: s.redis, db: s.t.db });
  let worker: Worker | undefined;

  const close = async () => {
    await worker?.close();
    await workerRedis.quit();
    await producer.close();
    await runtime.close();
    await rekor.close();
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    worker = createTierWorker({
      runtime,
      tier: 'graph',
      signer: await loadSigner({ keyPath: key.privateKeyPath }),
      connection: workerRedis,
      concurrency: 1,
    });
    for (let i = 0; i < 5; i++) await producer.submitGraphAttestation(graphInput(busyTenant, `busy-${i}`));
    await producer.submitGraphAttestation(graphInput(quietTenant, 'quiet-0'));
    await runtime.offline.add(
      {
        ...offlineSubmission(busyTenant),
        enqueuedAt: Date.now(),
      },
      'rekor_unreachable',
    );
    const count = async (tenantId: string) => (await runtime.receipts.list({ tenantId })).length;
    const parked = async () =>
      (await runtime.parking.countByTenant('graph', [busyTenant])).get(busyTenant) ?? 0;
    await waitFor(
      async () =>
        (await count(busyTenant)) === 2 && (await count(quietTenant)) === 1 && (await parked()) === 3,
      20_000,
      '3 receipts and 3 parked jobs',
    );
    // three more of the busy tenant wait delayed for a retry an hour away
    for (let i = 0; i < 3; i++) {
      const input = validateGraphInput(graphInput(busyTenant, `retry-${i}`));
      const digest = contentDigest('graph', input);
      await runtime.queues
        .get('graph')
        .add(
          SUBMISSION_JOB,
          { version: 1, tier: 'graph', contentDigest: digest, input, enqueuedAt: Date.now() },
          { ...submissionJobOptions(config, jobIdFor('graph', digest)), delay: 3_600_000 },
        );
    }
    await runtime.lanes.count('graph', 'q', new Map([[busyTenant, 3]]));
    return {
      config,
      runtime,
      rekor,
      busyTenant,
      quietTenant,
      logIndexes: async (tenantId) => (await runtime.receipts.list({ tenantId })).map((r) => r.logIndex),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A submission that waits in the offline queue (Rekor was unreachable). */
function offlineSubmission(tenantId: string) {
  const input = validateGraphInput(graphInput(tenantId, 'offline-busy'));
  return { version: 1 as const, tier: 'graph' as const, contentDigest: contentDigest('graph', input), input };
}

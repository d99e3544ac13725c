import { Queue, Worker } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import {
  startPrivateCluster,
  startPrivateSentinel,
  type PrivateCluster,
  type PrivateSentinel,
} from '@rekor-budget/testing';

/** The private Redis topologies the cluster and Sentinel tests run on. */
jest.setTimeout(120_000);

describe('a private Redis Cluster of three masters', () => {
  let cluster: PrivateCluster;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startPrivateCluster();
    client = new Cluster(
      cluster.nodes.map((n) => ({ host: n.split(':')[0]!, port: Number(n.split(':')[1]) })),
      { redisOptions: { maxRetriesPerRequest: null } },
    );
  });
  afterAll(async () => {
    await client.quit();
    await cluster.destroy();
  });

  test('serves every slot, and hash tags spread keys over the masters', async () => {
    const masters = client.nodes('master');
    expect(masters).toHaveLength(3);
    const owners = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const key = `{tenant-${i}}:units`;
      await client.set(key, String(i));
      const slot = (await client.cluster('KEYSLOT', key)) as number;
      const shards = (await client.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
      const owner = shards.find(([from, to]) => slot >= from && slot <= to)!;
      owners.add(String(owner[2][1]));
    }
    expect(owners.size).toBe(3);
  });

  test('BullMQ runs a queue whose prefix is a hash tag', async () => {
    const queue = new Queue('q', { connection: client, prefix: '{smoke}' });
    const workerConnection = client.duplicate();
    const worker = new Worker('q', async (job) => (job.data as { n: number }).n * 2, {
      connection: workerConnection,
      prefix: '{smoke}',
    });
    try {
      const done = new Promise<number>((resolve) =>
        worker.on('completed', (_job, value: number) => resolve(value)),
      );
      await queue.add('double', { n: 21 });
      expect(await done).toBe(42);
    } finally {
      await worker.close();
      await queue.close();
      await workerConnection.quit();
    }
  });
});

describe('a private Sentinel set-up', () => {
  let sentinel: PrivateSentinel;
  beforeAll(async () => {
    sentinel = await startPrivateSentinel();
  });
  afterAll(async () => {
    await sentinel.destroy();
  });

  test('a client through the sentinel follows a failover to the promoted replica', async () => {
    const client = new Redis({
      sentinels: sentinel.sentinels.map((n) => ({ host: n.split(':')[0]!, port: Number(n.split(':')[1]) })),
      name: sentinel.name,
      maxRetriesPerRequest: null,
    });
    const errors: Error[] = [];
    client.on('error', (e: Error) => errors.push(e));
    try {
      await client.set('written-before', 'yes');
      // acknowledged by the replica before the master dies
      expect(await client.wait(1, 5_000)).toBe(1);
      const before = await sentinel.masterPort();
      await sentinel.failover();
      expect(await sentinel.masterPort()).not.toBe(before);
      expect(await client.get('written-before')).toBe('yes');
      await client.set('written-after', 'yes');
      expect(await client.get('written-after')).toBe('yes');
    } finally {
      await client.quit();
    }
  });
});

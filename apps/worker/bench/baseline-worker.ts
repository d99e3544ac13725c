/**
 * The hand-built alternative the end-to-end benchmark compares the product
 * with: what a team would write without rekor-budget. One BullMQ worker
 * process; a per-tenant hourly limit with rate-limiter-flexible; the DSSE
 * bundle signed and logged with @sigstore/sign (`DSSEBundleBuilder` +
 * `RekorWitness`, dsse entries) against the same rekor-local; the bundle
 * inserted into Postgres. No envelope store, no per-content lock, no
 * offline queue, no receipts lookup, no metrics. On a Redis Cluster the queue
 * prefix is one hash tag (`{<prefix>}`), as BullMQ requires.
 *
 *   node -r @swc-node/register bench/baseline-worker.ts <json options>
 *
 * Prints `ready` once the worker listens.
 */
import { createPrivateKey, createPublicKey, sign as signData } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DelayedError, Worker } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { DSSEBundleBuilder, RekorWitness, type Signer } from '@sigstore/sign';

/** The Redis the baseline runs on, as a user would name it to ioredis by hand. */
export type BaselineRedis =
  | { url: string }
  | { cluster: { host: string; port: number }[] }
  | { sentinel: { name: string; nodes: { host: string; port: number }[] } };

/** A connection to `r` for BullMQ workers (no retry limit per request). */
export function connectBaselineRedis(r: BaselineRedis): Redis | Cluster {
  if ('cluster' in r) return new Cluster(r.cluster, { redisOptions: { maxRetriesPerRequest: null } });
  if ('sentinel' in r)
    return new Redis({ name: r.sentinel.name, sentinels: r.sentinel.nodes, maxRetriesPerRequest: null });
  return new Redis(r.url, { maxRetriesPerRequest: null });
}

export interface BaselineOptions {
  redis: BaselineRedis;
  prefix: string;
  queue: string;
  rekorUrl: string;
  databaseUrl: string;
  keyPath: string;
  concurrency: number;
  hourlyLimit: number;
}

/** Job data of the baseline queue: the scanner input, as the product's producer receives it. */
export interface BaselineJob {
  tenantId: string;
  scanId: string;
  subject: { name: string; digest: string };
  graphDigest: string;
  scanner: { name: string; version: string };
  scanFinishedAt: string;
  metadata: Record<string, string>;
}

export const BASELINE_TABLE = 'baseline_bundles';

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] ?? '{}') as BaselineOptions;
  const privateKey = createPrivateKey(readFileSync(o.keyPath));
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  const signer: Signer = {
    sign: async (data) => ({
      signature: signData('sha256', data, privateKey),
      key: { $case: 'publicKey', publicKey },
    }),
  };
  const builder = new DSSEBundleBuilder({
    signer,
    witnesses: [new RekorWitness({ rekorBaseURL: o.rekorUrl, entryType: 'dsse', fetchOnConflict: true })],
  });
  const redis = connectBaselineRedis(o.redis);
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${o.prefix}:rl`,
    points: o.hourlyLimit,
    duration: 3600,
  });
  const pool = new pg.Pool({ connectionString: o.databaseUrl, max: o.concurrency });

  const worker = new Worker<BaselineJob>(
    o.queue,
    async (job, token) => {
      try {
        await limiter.consume(job.data.tenantId);
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) throw e;
        await job.moveToDelayed(Date.now() + e.msBeforeNext, token);
        throw new DelayedError();
      }
      const d = job.data;
      const statement = {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: d.subject.name, digest: { sha256: d.subject.digest.replace(/^sha256:/, '') } }],
        predicateType: 'https://example.com/graph/v1',
        predicate: d,
      };
      const bundle = await builder.create({
        data: Buffer.from(JSON.stringify(statement)),
        type: 'application/vnd.in-toto+json',
      });
      await pool.query(`INSERT INTO ${BASELINE_TABLE} (job_id, tenant_id, bundle) VALUES ($1, $2, $3)`, [
        job.id,
        d.tenantId,
        JSON.stringify(bundle),
      ]);
    },
    { connection: redis, prefix: `{${o.prefix}}`, concurrency: o.concurrency },
  );
  await worker.waitUntilReady();
  process.stdout.write('ready\n');
  const stop = async () => {
    await worker.close();
    await pool.end();
    await redis.quit();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

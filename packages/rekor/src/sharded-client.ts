import { createRekorClient, type RekorClient, type RekorClientOptions } from './client';
import { RekorError } from './error';
import type { SubmitOutcome } from './outcome';
import { selectServices, SUPPORTED_REKOR_VERSIONS, type SigningConfig } from './signing-config';

export interface ShardedClientOptions extends Omit<RekorClientOptions, 'serverUrl' | 'apiVersion'> {
  /** The Rekor shards and TSAs to use. */
  signingConfig: SigningConfig;
  /** Told whenever writes move to another shard (logged and counted by the caller). */
  onShardChange?: (change: { from: string; to: string; reason: 'frozen' | 'validity' }) => void;
}

/**
 * A client over the shards of a SigningConfig. Every call uses the best
 * valid shard (validity window, highest supported API version, list order),
 * skipping shards that answered 405 (frozen). A submission a frozen shard
 * refused is sent at once to the next valid shard; only when none is left
 * does it come back `frozen`. `logUrl` is the shard in use, so receipts name
 * the log their entry is in. The TSA is the configured one, else the first
 * valid one of the signing config.
 */
export function createShardedClient(options: ShardedClientOptions): RekorClient {
  const { signingConfig, onShardChange, ...clientOptions } = options;
  const now = () => new Date((options.now ?? Date.now)());
  const frozen = new Set<string>();
  const clients = new Map<string, RekorClient>();
  const tsaUrl = options.timestampAuthorityUrl ?? selectServices(signingConfig.tsaUrls, [1], now())[0]?.url;

  function pick(): { url: string; majorApiVersion: number } | undefined {
    return selectServices(signingConfig.rekorTlogUrls, SUPPORTED_REKOR_VERSIONS, now()).find(
      (s) => !frozen.has(s.url),
    );
  }
  let current = pick();
  if (!current) {
    throw new RekorError(
      'INVALID_SIGNING_CONFIG',
      'the signing config names no Rekor log that is valid now with API version 1 or 2 (rekorTlogUrls)',
    );
  }

  /** The shard to use now; says so when it changed for its validity window. */
  function shard(): RekorClient {
    const next = pick();
    if (next && current && next.url !== current.url) {
      onShardChange?.({ from: current.url, to: next.url, reason: 'validity' });
    }
    current = next ?? current!;
    let client = clients.get(current.url);
    if (!client) {
      client = createRekorClient({
        ...clientOptions,
        serverUrl: current.url,
        apiVersion: current.majorApiVersion as 1 | 2,
        ...(tsaUrl === undefined ? {} : { timestampAuthorityUrl: tsaUrl }),
      });
      clients.set(current.url, client);
    }
    return client;
  }

  return {
    get logUrl() {
      return shard().logUrl;
    },
    async submit(envelope): Promise<SubmitOutcome> {
      for (;;) {
        const client = shard();
        const outcome = await client.submit(envelope);
        if (outcome.kind !== 'frozen') return outcome;
        // of the submissions in flight when the shard froze, the first back moves everyone
        const first = !frozen.has(client.logUrl);
        frozen.add(client.logUrl);
        const next = pick();
        if (!next) {
          return {
            ...outcome,
            message: `${outcome.message.replace(/; point attestor\.rekor\.serverUrl at the current shard$/, '')}; the signing config names no other valid shard: publish the next shard in it (or point attestor.rekor.signingConfig at one that does)`,
          };
        }
        if (first) onShardChange?.({ from: client.logUrl, to: next.url, reason: 'frozen' });
        current = next;
      }
    },
    async lookup(envelope, onError) {
      // the shard in use, then every shard written to before (a frozen one still serves reads)
      const active = shard();
      for (const client of [active, ...[...clients.values()].filter((c) => c !== active)]) {
        const found = await client.lookup(envelope, onError);
        if (found) return found;
      }
      return undefined;
    },
    probe: (probeOptions) => shard().probe(probeOptions),
    probeTimestampAuthority: (probeOptions) => shard().probeTimestampAuthority(probeOptions),
    logInfo: () => shard().logInfo(),
    close() {
      for (const c of clients.values()) c.close();
    },
  };
}

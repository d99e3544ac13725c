import { join } from 'node:path';
import { json } from '@sigstore/core';
import { RekorLocalError } from '../errors';
import type { LogKey } from '../crypto/log-key';
import type { CanonicalEntry } from '../kinds';
import { leafHash } from '../merkle/hash';
import { indexKeysOf } from './index-keys';
import { MerkleTree } from '../merkle/tree';
import { signCheckpoint } from './checkpoint';
import { DATA_FILES, openDataDir, type LogMeta } from './data-dir';
import { lockDataDir } from './dir-lock';
import { EntryFile, type StoredEntry } from './entry-file';
import type { LogEntryMap, LogInfo, TransparencyLogEntryJson } from './types';

export interface TransparencyLogOptions {
  dataDir: string;
  /** Checkpoint signer name for a new log (kept in `log.json` after). */
  name: string;
  /** fdatasync every write batch before acknowledging it. */
  fsync: boolean;
  /** Clock, Unix milliseconds. */
  now?: () => number;
  /**
   * Checkpoint origin line: `rekor-v1` (`<name> - <treeID>`, as Rekor v1
   * writes it) or `c2sp` (`<name>` alone, as rekor-tiles writes it: the
   * origin is the shard's host). @defaultValue 'rekor-v1'
   */
  origin?: 'rekor-v1' | 'c2sp';
}

/**
 * The log: an RFC 6962 tree over the entry bodies, persisted in a data
 * directory. Appends run one after another on the event loop (index,
 * tree and dedup index change together, synchronously), then wait for the
 * group commit; proofs are served only for committed entries.
 */
export class TransparencyLog {
  readonly key: LogKey;
  readonly meta: LogMeta;
  private readonly tree = new MerkleTree();
  private readonly entries: StoredEntry[] = [];
  private readonly byLeaf = new Map<string, number>();
  /** Entries by the digest of the request that proposed them: a repeat is answered unverified. */
  private readonly byProposal = new Map<string, number>();
  private readonly pending = new Map<number, Promise<void>>();
  /** Entries by the hashes `POST /api/v1/index/retrieve` searches (see `indexKeysOf`). */
  private readonly byHash = new Map<string, number[]>();
  private readonly file: EntryFile;
  private readonly now: () => number;
  private readonly originStyle: 'rekor-v1' | 'c2sp';
  private committed = 0;
  private checkpoint: { size: number; text: string } | undefined;
  private failure: Error | undefined;
  private readonly unlock: () => void;

  constructor(options: TransparencyLogOptions) {
    ({ key: this.key, meta: this.meta } = openDataDir(options.dataDir, options.name));
    this.now = options.now ?? Date.now;
    this.originStyle = options.origin ?? 'rekor-v1';
    this.unlock = lockDataDir(options.dataDir);
    let opened: ReturnType<typeof EntryFile.open>;
    try {
      opened = EntryFile.open(join(options.dataDir, DATA_FILES.entries), options.fsync);
    } catch (e) {
      this.unlock();
      throw e;
    }
    this.file = opened.file;
    for (const e of opened.entries) this.add(e, leafHash(Buffer.from(e.b, 'base64')));
    this.committed = opened.entries.length;
  }

  get logIdHex(): string {
    return this.key.logId.toString('hex');
  }

  /** Committed tree size. */
  get size(): number {
    return this.committed;
  }

  /**
   * The entry logged from exactly this proposal (see `proposalDigest`), once
   * durable: a request that repeats an accepted one byte for byte (up to key
   * order) is a duplicate, and needs no second signature verification.
   */
  async findProposal(proposal: string): Promise<number | undefined> {
    const index = this.byProposal.get(proposal);
    if (index === undefined) return undefined;
    await this.pending.get(index);
    return index;
  }

  /**
   * Appends an entry, or finds the identical one already logged; resolves
   * once it is durable. `proposal`, the digest of the request it came from,
   * is remembered for `findProposal`.
   */
  async append(entry: CanonicalEntry, proposal?: string): Promise<{ index: number; existing: boolean }> {
    if (this.failure) {
      throw new RekorLocalError(
        'STORAGE_FAILED',
        `the log stopped accepting entries after a failed write; restart it (${this.failure.message})`,
      );
    }
    const leaf = leafHash(entry.body);
    const known = this.byLeaf.get(leaf.toString('hex'));
    if (known !== undefined) {
      if (proposal !== undefined) this.byProposal.set(proposal, known);
      await this.pending.get(known);
      return { index: known, existing: true };
    }
    const index = this.entries.length;
    const b = entry.body.toString('base64');
    const t = Math.floor(this.now() / 1000);
    const set = json.canonicalize({ body: b, integratedTime: t, logID: this.logIdHex, logIndex: index });
    const stored: StoredEntry = { i: index, t, b, s: this.key.sign(set).toString('base64') };
    this.add(stored, leaf);
    if (proposal !== undefined) this.byProposal.set(proposal, index);
    const durable = this.file.append(stored).then(
      () => {
        this.pending.delete(index);
        this.committed = Math.max(this.committed, index + 1);
      },
      (err: Error) => {
        // fail-stop: the tree in memory now holds an entry the disk may not
        this.failure ??= err;
        throw err;
      },
    );
    this.pending.set(index, durable);
    await durable;
    return { index, existing: false };
  }

  /** UUIDs of the committed entries indexed under `hash` (`sha256:<hex>`), oldest first. */
  searchByHash(hash: string): string[] {
    return (this.byHash.get(hash) ?? []).filter((i) => i < this.committed).map((i) => this.uuid(i));
  }

  /** Index of the committed entry with this UUID (64 hex leaf hash, or 80 with the tree ID prefix). */
  indexOfUuid(uuid: string): number | undefined {
    const id = uuid.toLowerCase();
    let leaf = id;
    if (id.length === 80) {
      if (id.slice(0, 16) !== this.treeIdHex()) return undefined;
      leaf = id.slice(16);
    } else if (id.length !== 64) return undefined;
    const index = this.byLeaf.get(leaf);
    return index !== undefined && index < this.committed ? index : undefined;
  }

  uuid(index: number): string {
    return this.treeIdHex() + this.tree.leaf(index).toString('hex');
  }

  /** The Rekor LogEntry of a committed entry, with an inclusion proof against the current tree. */
  logEntry(index: number): LogEntryMap {
    const e = this.entries[index]!;
    const size = this.committed;
    return {
      [this.uuid(index)]: {
        body: e.b,
        integratedTime: e.t,
        logID: this.logIdHex,
        logIndex: index,
        verification: {
          inclusionProof: {
            checkpoint: this.signedTreeHead(size),
            hashes: this.tree.inclusionProof(index, size).map((h) => h.toString('hex')),
            logIndex: index,
            rootHash: this.tree.root(size).toString('hex'),
            treeSize: size,
          },
          signedEntryTimestamp: e.s,
        },
      },
    };
  }

  /**
   * The entry as Rekor v2 answers: a TransparencyLogEntry with an inclusion
   * proof and checkpoint, and no signed entry timestamp or integrated time.
   */
  transparencyLogEntry(index: number): TransparencyLogEntryJson {
    const size = this.committed;
    const { kind, apiVersion: version } = JSON.parse(
      Buffer.from(this.entries[index]!.b, 'base64').toString('utf8'),
    ) as { kind: string; apiVersion: string };
    return {
      logIndex: String(index),
      logId: { keyId: this.key.logId.toString('base64') },
      kindVersion: { kind, version },
      inclusionProof: {
        logIndex: String(index),
        rootHash: this.tree.root(size).toString('base64'),
        treeSize: String(size),
        hashes: this.tree.inclusionProof(index, size).map((h) => h.toString('base64')),
        checkpoint: { envelope: this.signedTreeHead(size) },
      },
      canonicalizedBody: this.entries[index]!.b,
    };
  }

  info(): LogInfo {
    const size = this.committed;
    return {
      rootHash: this.tree.root(size).toString('hex'),
      treeSize: size,
      signedTreeHead: this.signedTreeHead(size),
      treeID: this.meta.treeId,
      inactiveShards: [],
    };
  }

  consistencyProof(first: number, last: number): { rootHash: string; hashes: string[] } {
    return {
      rootHash: this.tree.root(last).toString('hex'),
      hashes: this.tree.consistencyProof(first, last).map((h) => h.toString('hex')),
    };
  }

  /** The signed checkpoint of the committed tree (`GET /checkpoint`). */
  checkpointNote(): string {
    return this.signedTreeHead(this.committed);
  }

  /** The complete-subtree hash at tree `level`, `index`, if the committed tree holds it (tiles). */
  node(level: number, index: number): Buffer | undefined {
    if ((index + 1) * 2 ** level > this.committed) return undefined;
    return this.tree.node(level, index);
  }

  /** The canonical body of committed entry `index` (entry bundles). */
  body(index: number): Buffer {
    if (index >= this.committed) throw new RangeError(`entry ${index} is not committed`);
    return Buffer.from(this.entries[index]!.b, 'base64');
  }

  /** Waits for every pending write, then closes the entry file. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.pending.values()]);
    this.file.close();
    this.unlock();
  }

  private add(e: StoredEntry, leaf: Buffer): void {
    this.entries.push(e);
    this.tree.append(leaf);
    this.byLeaf.set(leaf.toString('hex'), e.i);
    for (const key of indexKeysOf(Buffer.from(e.b, 'base64'))) {
      const list = this.byHash.get(key);
      if (list === undefined) this.byHash.set(key, [e.i]);
      else list.push(e.i);
    }
  }

  private signedTreeHead(size: number): string {
    if (this.checkpoint?.size !== size) {
      const origin = this.originStyle === 'c2sp' ? this.meta.name : `${this.meta.name} - ${this.meta.treeId}`;
      const text = signCheckpoint(this.key, origin, this.meta.name, size, this.tree.root(size));
      this.checkpoint = { size, text };
    }
    return this.checkpoint.text;
  }

  private treeIdHex(): string {
    return BigInt(this.meta.treeId).toString(16).padStart(16, '0');
  }
}

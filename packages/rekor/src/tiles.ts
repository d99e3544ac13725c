import { createHash } from 'node:crypto';
import { RekorError } from './error';

/** Fetches the bytes of `/tile/<level>/<index>[.p/<width>]` (level `entries` for entry bundles). */
export type TileFetcher = (
  level: number | 'entries',
  index: number,
  width: number | undefined,
) => Promise<Buffer>;

const WIDTH = 256;
const HEIGHT = 8;

/** The C2SP tlog-tiles path of a tile index: 1234067 → `x001/x234/067`. */
export function tileIndexPath(index: number): string {
  const digits = String(index);
  const groups = digits.padStart(Math.ceil(digits.length / 3) * 3, '0').match(/\d{3}/g)!;
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

const node = (l: Buffer, r: Buffer) =>
  createHash('sha256')
    .update(Buffer.from([1]))
    .update(l)
    .update(r)
    .digest();

/**
 * Reads what a tile-backed log (rekor-tiles) holds for one entry: its
 * canonical body and an RFC 6962 inclusion proof in the tree of `size`
 * leaves, built from tiles (`tlog-tiles`: there is no proof API in Rekor v2).
 */
export async function entryFromTiles(
  fetchTile: TileFetcher,
  index: number,
  size: number,
): Promise<{ body: Buffer; hashes: Buffer[] }> {
  if (index >= size) throw new RekorError('INVALID_RESPONSE', `entry ${index} is not in a tree of ${size}`);
  const tiles = new Map<string, Promise<Buffer>>();
  const widthAt = (tileLevel: number, n: number) => {
    const nodes = Math.floor(size / 2 ** (tileLevel * HEIGHT));
    return Math.min(WIDTH, nodes - n * WIDTH);
  };
  const tile = (level: number | 'entries', n: number) => {
    const width = widthAt(level === 'entries' ? 0 : level, n);
    const key = `${level}/${n}`;
    if (!tiles.has(key)) tiles.set(key, fetchTile(level, n, width === WIDTH ? undefined : width));
    return tiles.get(key)!;
  };
  /** The hash of the complete subtree of 2^level leaves at `i`. */
  const subtree = async (level: number, i: number): Promise<Buffer> => {
    const tileLevel = Math.floor(level / HEIGHT);
    const r = level % HEIGHT;
    const first = i * 2 ** r;
    const bytes = await tile(tileLevel, Math.floor(first / WIDTH));
    const at = first % WIDTH;
    let row: Buffer[] = [];
    for (let k = at; k < at + 2 ** r; k++) {
      const h = bytes.subarray(k * 32, k * 32 + 32);
      if (h.length !== 32) throw new RekorError('INVALID_RESPONSE', `tile level ${tileLevel} is short`);
      row.push(h);
    }
    while (row.length > 1) row = row.flatMap((_, k) => (k % 2 ? [] : [node(row[k]!, row[k + 1]!)]));
    return row[0]!;
  };
  const range = async (start: number, end: number): Promise<Buffer> => {
    const n = end - start;
    if ((n & (n - 1)) === 0 && start % n === 0) return subtree(Math.log2(n), start / n);
    let k = 1;
    while (k * 2 < n) k *= 2;
    return node(await range(start, start + k), await range(start + k, end));
  };
  const path = async (m: number, start: number, end: number): Promise<Buffer[]> => {
    const n = end - start;
    if (n === 1) return [];
    let k = 1;
    while (k * 2 < n) k *= 2;
    if (m < k) return [...(await path(m, start, start + k)), await range(start + k, end)];
    return [...(await path(m - k, start + k, end)), await range(start, start + k)];
  };
  const hashes = await path(index, 0, size);
  const bundle = await tile('entries', Math.floor(index / WIDTH));
  let at = 0;
  for (let k = 0; k < index % WIDTH; k++) at += 2 + bundle.readUInt16BE(at);
  if (at + 2 > bundle.length) throw new RekorError('INVALID_RESPONSE', 'the entry bundle is short');
  const body = bundle.subarray(at + 2, at + 2 + bundle.readUInt16BE(at));
  const leaf = createHash('sha256')
    .update(Buffer.from([0]))
    .update(body)
    .digest();
  if (!leaf.equals(await subtree(0, index))) {
    throw new RekorError('INVALID_RESPONSE', `entry ${index} of the entry bundle does not match its tile`);
  }
  return { body: Buffer.from(body), hashes };
}

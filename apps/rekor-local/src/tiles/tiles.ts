import { RekorLocalError } from '../errors';
import { TILE_HEIGHT, TILE_WIDTH, type TileRequest } from './layout';

/** What tiles are read from: the committed tree and entry bodies. */
export interface TileSource {
  /** Committed tree size (what the latest checkpoint covers). */
  readonly size: number;
  /** Hash of the complete subtree at tree `level`, `index` (undefined if not complete). */
  node(level: number, index: number): Buffer | undefined;
  /** The canonical body of committed entry `index`. */
  body(index: number): Buffer;
}

/**
 * The bytes of a tile (concatenated 32-byte hashes) or an entry bundle (each
 * entry as a big-endian uint16 length and its bytes). A tile is served once
 * the committed tree holds all of its `width` hashes; asking for more is 404,
 * as a tile not yet written is.
 */
export function readTile(source: TileSource, tile: TileRequest): Buffer {
  const width = tile.width ?? TILE_WIDTH;
  const first = tile.index * TILE_WIDTH;
  const notFound = () => new RekorLocalError('NOT_FOUND', 'tile not found');
  if (tile.level === 'entries') {
    if (first + width > source.size) throw notFound();
    const parts: Buffer[] = [];
    for (let i = first; i < first + width; i++) {
      const body = source.body(i);
      if (body.length > 0xffff) {
        throw new RekorLocalError('STORAGE_FAILED', `entry ${i} is larger than an entry bundle can hold`);
      }
      const length = Buffer.alloc(2);
      length.writeUInt16BE(body.length);
      parts.push(length, body);
    }
    return Buffer.concat(parts);
  }
  const treeLevel = tile.level * TILE_HEIGHT;
  // a node of tree level k covers 2^k leaves: it is in the checkpointed tree once all of them are
  const span = 2 ** treeLevel;
  if ((first + width) * span > source.size) throw notFound();
  const hashes: Buffer[] = [];
  for (let i = first; i < first + width; i++) {
    const node = source.node(treeLevel, i);
    if (node === undefined) throw notFound();
    hashes.push(node);
  }
  return Buffer.concat(hashes);
}

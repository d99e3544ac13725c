import { badRequest } from '../errors';

/**
 * The C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles): tiles of 256
 * hashes (or entries); a tile index is written in groups of three digits,
 * every group but the last prefixed with `x` (1234067 → `x001/x234/067`);
 * a partial tile of width W adds `.p/<W>`.
 */
export const TILE_WIDTH = 256;

/** Tree level of the hashes of tile level `level`: 8 per tile level. */
export const TILE_HEIGHT = 8;

/** A parsed `/tile/...` path. */
export interface TileRequest {
  /** Tile level, or `entries` for an entry bundle. */
  level: number | 'entries';
  index: number;
  /** Width of a partial tile (1-255); undefined for a full tile. */
  width: number | undefined;
}

const TILE_PATH = /^\/tile\/(entries|\d{1,2})\/((?:x\d{3}\/)*\d{3})(?:\.p\/(\d{1,3}))?$/;

/** Parses a tile path, or undefined when `path` is not under `/tile/`. Malformed tile paths are 400. */
export function parseTilePath(path: string): TileRequest | undefined {
  if (!path.startsWith('/tile/')) return undefined;
  const m = TILE_PATH.exec(path);
  if (!m) throw badRequest('invalid level, index and optional width');
  const level = m[1] === 'entries' ? 'entries' : Number(m[1]);
  if (level !== 'entries' && level > 63) throw badRequest('invalid level, index and optional width');
  const index = Number(m[2]!.replace(/x|\//g, ''));
  if (!Number.isSafeInteger(index)) throw badRequest('invalid level, index and optional width');
  const width = m[3] === undefined ? undefined : Number(m[3]);
  if (width !== undefined && (width < 1 || width >= TILE_WIDTH))
    throw badRequest('invalid level, index and optional width');
  return { level, index, width };
}

/** The path of a tile index: `x001/x234/067`. */
export function tileIndexPath(index: number): string {
  const digits = String(index);
  const padded = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups = padded.match(/\d{3}/g)!;
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

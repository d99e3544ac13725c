import { createHash } from 'node:crypto';

/** RFC 6962 leaf hash: SHA-256(0x00 || leaf). */
export function leafHash(leaf: Buffer): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest();
}

/** RFC 6962 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** Hash of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

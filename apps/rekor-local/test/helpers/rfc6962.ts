import { createHash } from 'node:crypto';

/**
 * An RFC 6962 / RFC 9162 verifier written from the RFC text, independent of
 * the server's tree code: Merkle tree hash by definition, and the inclusion
 * and consistency proof verification algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2.
 */
const sha256 = (...parts: Buffer[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
export const hashLeaf = (leaf: Buffer): Buffer => sha256(Buffer.from([0]), leaf);
const hashNode = (l: Buffer, r: Buffer): Buffer => sha256(Buffer.from([1]), l, r);

/** MTH(D[n]) by the RFC's recursive definition, over leaf inputs. */
export function merkleTreeHash(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return hashLeaf(leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return hashNode(merkleTreeHash(leaves.slice(0, k)), merkleTreeHash(leaves.slice(k)));
}

/** RFC 9162 §2.1.3.2. */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Buffer,
  path: Buffer[],
  root: Buffer,
): boolean {
  if (index >= size) return false;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leafHash;
  for (const p of path) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = hashNode(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = hashNode(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && r.equals(root);
}

/** RFC 9162 §2.1.4.2. */
export function verifyConsistency(
  first: number,
  second: number,
  firstHash: Buffer,
  secondHash: Buffer,
  proof: Buffer[],
): boolean {
  if (first === second) return proof.length === 0 && firstHash.equals(secondHash);
  if (first === 0 || first > second || proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstHash, ...proof] : [...proof];
  let fn = BigInt(first - 1);
  let sn = BigInt(second - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = hashNode(c, fr);
      sr = hashNode(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = hashNode(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return fr.equals(firstHash) && sr.equals(secondHash) && sn === 0n;
}

import { EMPTY_ROOT, nodeHash } from './hash';

/**
 * An append-only RFC 6962 Merkle tree over leaf hashes.
 *
 * `levels[k][i]` is the hash of the complete subtree of 2^k leaves starting at
 * leaf i·2^k. An append adds one leaf and at most log2(n) parents, so appends
 * cost O(log n); roots and proofs for any earlier size are computed from the
 * complete subtrees in O(log n) hashes.
 */
export class MerkleTree {
  private readonly levels: Buffer[][] = [[]];

  get size(): number {
    return this.levels[0]!.length;
  }

  /** Appends a leaf hash; returns its index. */
  append(leaf: Buffer): number {
    const index = this.size;
    this.levels[0]!.push(leaf);
    let i = index;
    let k = 0;
    while (i % 2 === 1) {
      const level = this.levels[k]!;
      const parent = nodeHash(level[i - 1]!, level[i]!);
      k += 1;
      if (!this.levels[k]) this.levels[k] = [];
      this.levels[k]!.push(parent);
      i = (i - 1) / 2;
    }
    return index;
  }

  /**
   * Hash of the complete subtree of 2^level leaves starting at leaf
   * index·2^level, or undefined while the tree does not hold all of them.
   * These are the hashes tlog-tiles serves.
   */
  node(level: number, index: number): Buffer | undefined {
    return this.levels[level]?.[index];
  }

  /** Leaf hash at `index`. */
  leaf(index: number): Buffer {
    return this.levels[0]![index]!;
  }

  /** Root hash of the tree of the first `size` leaves (MTH(D[0:size])). */
  root(size: number = this.size): Buffer {
    this.checkSize(size);
    return size === 0 ? EMPTY_ROOT : this.hashRange(0, size);
  }

  /** RFC 6962 audit path of leaf `index` in the tree of the first `size` leaves, leaf to root. */
  inclusionProof(index: number, size: number = this.size): Buffer[] {
    this.checkSize(size);
    if (index < 0 || index >= size) throw new RangeError(`index ${index} is outside a tree of ${size}`);
    return this.path(index, 0, size);
  }

  /** RFC 6962 consistency proof between the trees of the first `first` and `last` leaves. */
  consistencyProof(first: number, last: number = this.size): Buffer[] {
    this.checkSize(last);
    if (first < 0 || first > last) throw new RangeError(`first size ${first} is outside 0..${last}`);
    if (first === 0 || first === last) return [];
    return this.subproof(first, 0, last, true);
  }

  /** MTH(D[start:end]). */
  private hashRange(start: number, end: number): Buffer {
    const n = end - start;
    if (isPowerOfTwo(n) && start % n === 0) {
      return this.levels[Math.log2(n)]![start / n]!;
    }
    const k = largestPowerOfTwoBelow(n);
    return nodeHash(this.hashRange(start, start + k), this.hashRange(start + k, end));
  }

  private path(m: number, start: number, end: number): Buffer[] {
    const n = end - start;
    if (n === 1) return [];
    const k = largestPowerOfTwoBelow(n);
    if (m < k) return [...this.path(m, start, start + k), this.hashRange(start + k, end)];
    return [...this.path(m - k, start + k, end), this.hashRange(start, start + k)];
  }

  private subproof(m: number, start: number, end: number, b: boolean): Buffer[] {
    const n = end - start;
    if (m === n) return b ? [] : [this.hashRange(start, end)];
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) return [...this.subproof(m, start, start + k, b), this.hashRange(start + k, end)];
    return [...this.subproof(m - k, start + k, end, false), this.hashRange(start, start + k)];
  }

  private checkSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > this.size) {
      throw new RangeError(`tree size ${size} is outside 0..${this.size}`);
    }
  }
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** The largest power of two strictly smaller than n (n >= 2). */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

import { createHash } from 'node:crypto';
import { MerkleTree } from '../src/merkle/tree';
import { leafHash } from '../src/merkle/hash';
import { hashLeaf, merkleTreeHash, verifyConsistency, verifyInclusion } from './helpers/rfc6962';

const leaves = Array.from({ length: 70 }, (_, i) => createHash('sha256').update(`leaf ${i}`).digest());
const tree = new MerkleTree();
for (const l of leaves) tree.append(leafHash(l));

describe('MerkleTree against the RFC 6962 definitions', () => {
  test('the empty tree hashes to SHA-256 of nothing', () => {
    expect(new MerkleTree().root(0).equals(merkleTreeHash([]))).toBe(true);
  });

  test.each(Array.from({ length: 70 }, (_, i) => i + 1))(
    'root and every inclusion proof at size %i',
    (size) => {
      const root = tree.root(size);
      expect(root.equals(merkleTreeHash(leaves.slice(0, size)))).toBe(true);
      for (let i = 0; i < size; i++) {
        expect(verifyInclusion(i, size, hashLeaf(leaves[i]!), tree.inclusionProof(i, size), root)).toBe(true);
      }
    },
  );

  test('every consistency proof between sizes 1..70 verifies, and a wrong root does not', () => {
    for (let m = 1; m <= 70; m++) {
      for (let n = m; n <= 70; n++) {
        const proof = tree.consistencyProof(m, n);
        expect(verifyConsistency(m, n, tree.root(m), tree.root(n), proof)).toBe(true);
        if (m < n) expect(verifyConsistency(m, n, tree.root(n), tree.root(n), proof)).toBe(false);
      }
    }
  });

  test('sizes outside the tree are refused', () => {
    expect(() => tree.root(71)).toThrow(RangeError);
    expect(() => tree.inclusionProof(70, 70)).toThrow(RangeError);
    expect(() => tree.consistencyProof(5, 4)).toThrow(RangeError);
  });
});

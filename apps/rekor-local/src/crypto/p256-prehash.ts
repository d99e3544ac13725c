import type { KeyObject } from 'node:crypto';

/**
 * ECDSA P-256 verification of a signature over an already computed digest
 * (node:crypto only verifies messages it hashes itself). Used for
 * `hashedrekord` entries, which carry a digest and not the artifact.
 */
export function verifyP256Digest(key: KeyObject, digest: Buffer, derSignature: Buffer): boolean {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.x || !jwk.y) return false;
  const rs = parseDerSignature(derSignature);
  if (!rs) return false;
  const [r, s] = rs;
  if (r <= 0n || r >= N || s <= 0n || s >= N) return false;
  const q: Point = [toBigInt(Buffer.from(jwk.x, 'base64url')), toBigInt(Buffer.from(jwk.y, 'base64url'))];
  const e = toBigInt(digest.subarray(0, 32));
  const w = inverse(s, N);
  const point = add(multiply(G, (e * w) % N), multiply(q, (r * w) % N));
  return point !== null && point[0] % N === r;
}

type Point = [bigint, bigint] | null;

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const G: Point = [
  0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
];

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function inverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS, m);
}

function add(p1: Point, p2: Point): Point {
  if (p1 === null) return p2;
  if (p2 === null) return p1;
  const [x1, y1] = p1;
  const [x2, y2] = p2;
  let l: bigint;
  if (x1 === x2) {
    if (mod(y1 + y2, P) === 0n) return null;
    l = mod((3n * x1 * x1 + A) * inverse(2n * y1, P), P);
  } else {
    l = mod((y2 - y1) * inverse(x2 - x1, P), P);
  }
  const x3 = mod(l * l - x1 - x2, P);
  return [x3, mod(l * (x1 - x3) - y1, P)];
}

function multiply(point: Point, k: bigint): Point {
  let result: Point = null;
  let addend = point;
  while (k > 0n) {
    if (k & 1n) result = add(result, addend);
    addend = add(addend, addend);
    k >>= 1n;
  }
  return result;
}

function toBigInt(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

/** Parses an ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`; null when malformed. */
function parseDerSignature(der: Buffer): [bigint, bigint] | null {
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) return null;
  const out: bigint[] = [];
  let at = 2;
  for (let i = 0; i < 2; i++) {
    if (der[at] !== 0x02) return null;
    const len = der[at + 1]!;
    if (len === 0 || len > 33 || at + 2 + len > der.length) return null;
    out.push(toBigInt(der.subarray(at + 2, at + 2 + len)));
    at += 2 + len;
  }
  return at === der.length ? [out[0]!, out[1]!] : null;
}

import type { KeyObject } from 'node:crypto';

/**
 * ECDSA P-256 verification of a signature over an already computed digest
 * (node:crypto only verifies messages it hashes itself). Used for
 * `hashedrekord` entries, which carry a digest and not the artifact.
 * Jacobian coordinates and one joint ladder for u1·G + u2·Q (Shamir's
 * trick): one modular inversion per verification, about 2 ms.
 */
export function verifyP256Digest(key: KeyObject, digest: Buffer, derSignature: Buffer): boolean {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.x || !jwk.y) return false;
  const rs = parseDerSignature(derSignature);
  if (!rs) return false;
  const [r, s] = rs;
  if (r <= 0n || r >= N || s <= 0n || s >= N) return false;
  const q: Jacobian = [
    toBigInt(Buffer.from(jwk.x, 'base64url')),
    toBigInt(Buffer.from(jwk.y, 'base64url')),
    1n,
  ];
  const e = toBigInt(digest.subarray(0, 32));
  const w = inverse(s, N);
  const point = jointMultiply(G, (e * w) % N, q, (r * w) % N);
  if (point[2] === 0n) return false;
  const zInv = inverse(point[2], P);
  const x = mod(point[0] * zInv * zInv, P);
  return x % N === r;
}

/** A point in Jacobian coordinates (x = X/Z², y = Y/Z³); Z = 0 is the point at infinity. */
type Jacobian = [bigint, bigint, bigint];

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const G: Jacobian = [
  0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
  1n,
];
const INFINITY: Jacobian = [1n, 1n, 0n];

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

/** 2·p, for a = -3 ("dbl-2001-b"). */
function double(p: Jacobian): Jacobian {
  const [x, y, z] = p;
  if (z === 0n || y === 0n) return INFINITY;
  const delta = (z * z) % P;
  const gamma = (y * y) % P;
  const beta = (x * gamma) % P;
  const alpha = (3n * (x - delta) * (x + delta)) % P;
  const x3 = mod(alpha * alpha - 8n * beta, P);
  const z3 = mod((y + z) * (y + z) - gamma - delta, P);
  const y3 = mod(alpha * (4n * beta - x3) - 8n * ((gamma * gamma) % P), P);
  return [x3, y3, z3];
}

/** p1 + p2 ("add-2007-bl"). */
function add(p1: Jacobian, p2: Jacobian): Jacobian {
  if (p1[2] === 0n) return p2;
  if (p2[2] === 0n) return p1;
  const [x1, y1, z1] = p1;
  const [x2, y2, z2] = p2;
  const z1z1 = (z1 * z1) % P;
  const z2z2 = (z2 * z2) % P;
  const u1 = (x1 * z2z2) % P;
  const u2 = (x2 * z1z1) % P;
  const s1 = (y1 * z2 * z2z2) % P;
  const s2 = (y2 * z1 * z1z1) % P;
  const h = mod(u2 - u1, P);
  const rr = mod(2n * (s2 - s1), P);
  if (h === 0n) return rr === 0n ? double(p1) : INFINITY;
  const i = (4n * h * h) % P;
  const j = (h * i) % P;
  const v = (u1 * i) % P;
  const x3 = mod(rr * rr - j - 2n * v, P);
  const y3 = mod(rr * (v - x3) - 2n * s1 * j, P);
  const z3 = mod(((z1 + z2) * (z1 + z2) - z1z1 - z2z2) * h, P);
  return [x3, y3, z3];
}

/** a·A + b·B in one pass over the bits of a and b. */
function jointMultiply(pa: Jacobian, a: bigint, pb: Jacobian, b: bigint): Jacobian {
  const both = add(pa, pb);
  let result = INFINITY;
  const bits = Math.max(a.toString(2).length, b.toString(2).length);
  for (let i = bits - 1; i >= 0; i--) {
    result = double(result);
    const bitA = (a >> BigInt(i)) & 1n;
    const bitB = (b >> BigInt(i)) & 1n;
    if (bitA && bitB) result = add(result, both);
    else if (bitA) result = add(result, pa);
    else if (bitB) result = add(result, pb);
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

import { createHash, createPublicKey, verify } from 'node:crypto';
import { RekorError } from './error';

/** A transparency log a trusted root names: what checks its checkpoints. */
export interface TrustedLog {
  baseUrl: string;
  /** DER SubjectPublicKeyInfo. */
  publicKey: Buffer;
  /** The log ID (for ECDSA keys, the C2SP checkpoint key ID): SHA-256 of the SPKI. */
  logId: Buffer;
}

/** A checkpoint whose signature was checked (or not: `verified: false` when no trusted log was given). */
export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
  /** The signed note as served. */
  note: string;
  /** The log whose key signed it, when one of the trusted logs did. */
  log: TrustedLog | undefined;
}

const SIGNATURE_LINE = /^\u2014 (\S+) (\S+)$/;

/**
 * The transparency logs of a sigstore TrustedRoot (protobuf JSON). Anything
 * that is not a trusted root with logs is `INVALID_TRUSTED_ROOT`.
 */
export function trustedLogs(trustedRoot: unknown): TrustedLog[] {
  const tlogs = (trustedRoot as { tlogs?: unknown } | null)?.tlogs;
  if (!Array.isArray(tlogs) || tlogs.length === 0) {
    throw new RekorError('INVALID_TRUSTED_ROOT', 'the trusted root names no transparency log (tlogs)');
  }
  return tlogs.map((t: { baseUrl?: unknown; publicKey?: { rawBytes?: unknown } }, i) => {
    if (typeof t.baseUrl !== 'string' || typeof t.publicKey?.rawBytes !== 'string') {
      throw new RekorError('INVALID_TRUSTED_ROOT', `tlogs[${i}] has no baseUrl or publicKey.rawBytes`);
    }
    const publicKey = Buffer.from(t.publicKey.rawBytes, 'base64');
    return { baseUrl: t.baseUrl, publicKey, logId: createHash('sha256').update(publicKey).digest() };
  });
}

/**
 * Parses a C2SP signed note checkpoint (`<origin>\n<size>\n<b64 root>\n[ext…]\n\n— <name> <b64(keyID‖sig)>…`)
 * and, with `logs`, checks that one signature line verifies under the key of a
 * log whose key ID (SHA-256 of the SPKI, first 4 bytes, as C2SP and rekor-tiles
 * define it for ECDSA keys) matches. A note that is not a checkpoint, or
 * whose signature no trusted log makes, throws `INVALID_RESPONSE`.
 */
export function openCheckpoint(note: string, logs: readonly TrustedLog[] | undefined): Checkpoint {
  const bad = (why: string) =>
    new RekorError('INVALID_RESPONSE', `the checkpoint is not a valid signed note: ${why}`);
  const split = note.indexOf('\n\n');
  if (split < 0) throw bad('no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const [origin, sizeText, hashText] = text.split('\n');
  if (!origin || !/^\d{1,16}$/.test(sizeText ?? '') || !/^[A-Za-z0-9+/]+=*$/.test(hashText ?? '')) {
    throw bad('the first lines are not origin, tree size and root hash');
  }
  const rootHash = Buffer.from(hashText!, 'base64');
  if (rootHash.length !== 32) throw bad('the root hash is not 32 bytes');
  const lines = note
    .slice(split + 2)
    .split('\n')
    .filter((l) => l !== '');
  const signatures = lines.map((l) => SIGNATURE_LINE.exec(l)).filter((m) => m !== null);
  if (signatures.length === 0) throw bad('no signature lines');
  let log: TrustedLog | undefined;
  if (logs !== undefined) {
    for (const [, , b64] of signatures) {
      const sig = Buffer.from(b64!, 'base64');
      if (sig.length < 5) continue;
      const candidate = logs.find((l) => l.logId.subarray(0, 4).equals(sig.subarray(0, 4)));
      if (!candidate) continue;
      const key = createPublicKey({ key: candidate.publicKey, format: 'der', type: 'spki' });
      if (verify('sha256', Buffer.from(text, 'utf8'), key, sig.subarray(4))) {
        log = candidate;
        break;
      }
    }
    if (!log) throw bad('no signature verifies under a log of the trusted root');
  }
  return { origin, size: Number(sizeText), rootHash, note, log };
}

import type { LogKey } from '../crypto/log-key';

/**
 * A checkpoint in the signed-note format Rekor uses
 * (transparency-dev/formats, log/README.md):
 *
 * ```
 * <origin>\n<tree size>\n<base64 root hash>\n\n— <name> <base64(key hint || signature)>\n
 * ```
 *
 * The key hint is the first 4 bytes of the log ID (SHA-256 of the log key's
 * SPKI); the signature is ECDSA-SHA256 over the note text up to and including
 * the newline after the root hash. Verifiers find the log by the key hint and
 * match `<name>` against the log's base URL, so `name` is the log's host.
 */
export function signCheckpoint(
  key: LogKey,
  origin: string,
  name: string,
  treeSize: number,
  rootHash: Buffer,
): string {
  const note = `${origin}\n${treeSize}\n${rootHash.toString('base64')}\n`;
  const signature = Buffer.concat([key.logId.subarray(0, 4), key.sign(note)]);
  return `${note}\n\u2014 ${name} ${signature.toString('base64')}\n`;
}

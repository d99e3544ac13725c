import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** The log's signing key: ECDSA P-256, signing SHA-256 digests (DER signatures). */
export class LogKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** DER SubjectPublicKeyInfo of the public key. */
  readonly spki: Buffer;
  /** SHA-256 of the SPKI: the log ID (Rekor's `logID`, hex) and checkpoint key hint source. */
  readonly logId: Buffer;

  private constructor(privateKey: KeyObject) {
    this.privateKey = privateKey;
    this.publicKey = createPublicKey(privateKey);
    this.spki = this.publicKey.export({ type: 'spki', format: 'der' });
    this.logId = createHash('sha256').update(this.spki).digest();
  }

  static generate(): LogKey {
    return new LogKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  }

  static fromPem(pem: string): LogKey {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new TypeError('the log key must be an ECDSA P-256 private key');
    }
    return new LogKey(key);
  }

  /** PKCS#8 PEM of the private key, for storage. */
  privatePem(): string {
    return this.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  /** SPKI PEM of the public key, as served at `/api/v1/log/publicKey`. */
  publicPem(): string {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** ECDSA-SHA256 signature (ASN.1 DER) over `data`. */
  sign(data: Buffer | string): Buffer {
    return sign('sha256', typeof data === 'string' ? Buffer.from(data, 'utf8') : data, this.privateKey);
  }
}

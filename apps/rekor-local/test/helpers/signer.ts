import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { Signature, Signer } from '@sigstore/sign';

/** A @sigstore/sign `Signer` over a local ECDSA P-256 key (no Fulcio): bundles carry a public-key hint. */
export class KeySigner implements Signer {
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
  readonly hint: string;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.hint = createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex');
  }

  async sign(data: Buffer): Promise<Signature> {
    return {
      signature: sign('sha256', data, this.privateKey),
      key: { $case: 'publicKey', publicKey: this.publicKeyPem, hint: this.hint },
    };
  }
}

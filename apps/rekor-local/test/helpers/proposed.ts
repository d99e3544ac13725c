import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** A signing key for hand-made proposed entries. */
export interface TestKey {
  privateKey: KeyObject;
  /** base64 of the PEM public key, as Rekor entries carry it. */
  publicB64: string;
}

export function newKey(type: 'ec' | 'rsa' | 'ed25519' = 'ec'): TestKey {
  const { privateKey, publicKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { privateKey, publicB64: Buffer.from(pem).toString('base64') };
}

function pae(type: string, payload: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `),
    payload,
  ]);
}

function signWith(key: TestKey, data: Buffer): Buffer {
  return sign(key.privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, key.privateKey);
}

const TYPE = 'application/vnd.in-toto+json';

/** A `dsse` 0.0.1 proposed entry over `payload`. */
export function dsseEntry(key: TestKey, payload: Buffer) {
  const sig = signWith(key, pae(TYPE, payload)).toString('base64');
  const envelope = JSON.stringify({
    payloadType: TYPE,
    payload: payload.toString('base64'),
    signatures: [{ sig, keyid: '' }],
  });
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: { proposedContent: { envelope, verifiers: [key.publicB64] } },
  };
}

/** An `intoto` 0.0.2 proposed entry over `payload`. */
export function intotoEntry(key: TestKey, payload: Buffer) {
  const sig = signWith(key, pae(TYPE, payload)).toString('base64');
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return {
    apiVersion: '0.0.2',
    kind: 'intoto',
    spec: {
      content: {
        envelope: {
          payloadType: TYPE,
          payload: b64(payload.toString('base64')),
          signatures: [{ sig: b64(sig), publicKey: key.publicB64 }],
        },
        hash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') },
        payloadHash: undefined,
      },
    },
  };
}

/** A `hashedrekord` 0.0.1 proposed entry over the SHA-256 of `artifact`. */
export function hashedRekordEntry(key: TestKey, artifact: Buffer) {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(artifact).digest('hex') } },
      signature: {
        content: signWith(key, artifact).toString('base64'),
        publicKey: { content: key.publicB64 },
      },
    },
  };
}

const pemB64 = (k: KeyObject) =>
  Buffer.from(k.export({ type: 'spki', format: 'pem' }).toString()).toString('base64');

/**
 * A `dsse` 0.0.1 entry over `payload` signed by every key, `perKey` times
 * each, with the verifiers listed in reverse (each signature's key comes
 * late in the list) and `unused` more verifiers that sign nothing.
 */
export function multiSignedDsseEntry(
  keys: { privateKey: KeyObject; publicKey: KeyObject }[],
  payload: Buffer,
  options: { perKey?: number; unused?: KeyObject[] } = {},
) {
  const message = pae(TYPE, payload);
  const signatures = keys.flatMap((k) =>
    Array.from({ length: options.perKey ?? 1 }, () => ({
      sig: sign(
        k.privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256',
        message,
        k.privateKey,
      ).toString('base64'),
      keyid: '',
    })),
  );
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      proposedContent: {
        envelope: JSON.stringify({ payloadType: TYPE, payload: payload.toString('base64'), signatures }),
        verifiers: [...keys.map((k) => k.publicKey).reverse(), ...(options.unused ?? [])].map(pemB64),
      },
    },
  };
}

/** The entry of issue 14's finding 5: 260 P-256 verifiers, 500 signatures, about 119 KB. */
export function reportedStallEntry() {
  const keys = Array.from({ length: 250 }, () => generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const unused = Array.from(
    { length: 10 },
    () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
  );
  return multiSignedDsseEntry(keys, Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}'), {
    perKey: 2,
    unused,
  });
}

/** The costliest entry within rekor-local's caps: 8 signatures, 8 P-521 verifiers, worst order. */
export function costliestDsseEntry(seed: string) {
  const keys = Array.from({ length: 8 }, () => generateKeyPairSync('ec', { namedCurve: 'P-521' }));
  return multiSignedDsseEntry(
    keys,
    Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', seed })),
  );
}

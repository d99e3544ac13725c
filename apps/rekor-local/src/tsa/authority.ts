import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { buildCertificate, toArrayBuffer } from './certificate';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  CMSVersion,
  ContentInfo,
  DigestAlgorithmIdentifier,
  DigestAlgorithmIdentifiers,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignatureAlgorithmIdentifier,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
  id_signedData,
} from '@peculiar/asn1-cms';
import {
  id_ct_tstInfo,
  MessageImprint,
  PKIStatus,
  PKIStatusInfo,
  TimeStampReq,
  TimeStampResp,
  TSTInfo,
} from '@peculiar/asn1-tsp';
import { fromBER, ObjectIdentifier, OctetString as Asn1OctetString, Set as Asn1Set, UTCTime } from 'asn1js';
import { RekorLocalError, badRequest } from '../errors';

/** OIDs used by the timestamp tokens. */
const OID = {
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  /** A policy OID of this development TSA (under the private-enterprise arc used for examples). */
  policy: '1.3.6.1.4.1.57264.2',
} as const;

const DIGEST_LENGTHS: Record<string, number> = { [OID.sha256]: 32, [OID.sha384]: 48, [OID.sha512]: 64 };
const HASH_NAMES: Record<string, string> = { sha256: OID.sha256, sha384: OID.sha384, sha512: OID.sha512 };

/** Files of the TSA in the data directory. */
export const TSA_FILES = { key: 'tsa-key.pem', chain: 'tsa-chain.pem' } as const;

/** What a timestamp request asks for, however it came (DER or sigstore's JSON). */
export interface TimestampQuery {
  /** OID of the hash algorithm. */
  hashAlgorithm: string;
  digest: Buffer;
  nonce?: Buffer;
  certReq: boolean;
}

/**
 * A development RFC 3161 timestamp authority: an ECDSA P-256 signing key and
 * its certificate (extended key usage timeStamping, critical) issued by a
 * root made with it; the root's key is discarded. Both are kept in the data
 * directory so the chain in `/trusted_root.json` survives restarts.
 */
export class TimestampAuthority {
  private constructor(
    private readonly key: KeyObject,
    /** DER certificates, leaf first. */
    readonly chain: Buffer[],
    private readonly now: () => number,
  ) {}

  /** Opens the TSA of `dataDir`, creating its key and chain on first start. */
  static async open(dataDir: string, now: () => number = Date.now): Promise<TimestampAuthority> {
    const keyPath = join(dataDir, TSA_FILES.key);
    const chainPath = join(dataDir, TSA_FILES.chain);
    if (!existsSync(keyPath) || !existsSync(chainPath)) {
      const { keyPem, chainPem } = createChain(new Date(Math.floor(now() / 1000) * 1000));
      writeFileSync(chainPath, chainPem, { mode: 0o644 });
      writeFileSync(keyPath, keyPem, { mode: 0o600 });
    }
    try {
      const key = createPrivateKey(readFileSync(keyPath, 'utf8'));
      const chain = pemBlocks(readFileSync(chainPath, 'utf8'));
      if (chain.length < 2) throw new Error(`${chainPath} holds ${chain.length} certificates, not 2`);
      return new TimestampAuthority(key, chain, now);
    } catch (e) {
      throw new RekorLocalError(
        'DATA_DIR_INVALID',
        `the TSA files in ${dataDir} are damaged: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  }

  /** Start of the chain's validity (the leaf's notBefore), ISO 8601. */
  get validFrom(): string {
    return new Date(new X509Certificate(this.chain[0]!).validFrom).toISOString();
  }

  /** The chain, PEM, leaf first (as timestamp-authority serves at `/api/v1/timestamp/certchain`). */
  chainPem(): string {
    return this.chain.map((der) => new X509Certificate(der).toString()).join('');
  }

  /** Signs a timestamp token over `query` and returns the DER TimeStampResp. */
  timestamp(query: TimestampQuery): Buffer {
    const leaf = AsnConvert.parse(this.chain[0]!, Certificate);
    const genTime = new Date(Math.floor(this.now() / 1000) * 1000);
    const serial = randomBytes(16);
    serial[0]! &= 0x7f; // a positive INTEGER
    const tstInfo = new TSTInfo({
      version: 1,
      policy: OID.policy,
      messageImprint: new MessageImprint({
        hashAlgorithm: new AlgorithmIdentifier({ algorithm: query.hashAlgorithm }),
        hashedMessage: new OctetString(query.digest),
      }),
      serialNumber: toArrayBuffer(serial),
      genTime,
      ordering: false,
      ...(query.nonce ? { nonce: toArrayBuffer(query.nonce) } : {}),
    });
    const tstDer = Buffer.from(AsnConvert.serialize(tstInfo));
    const attribute = (attrType: string, value: ArrayBuffer) =>
      new Attribute({ attrType, attrValues: [value] });
    const attrs = [
      attribute(OID.contentType, new ObjectIdentifier({ value: id_ct_tstInfo }).toBER()),
      attribute(OID.signingTime, new UTCTime({ valueDate: genTime }).toBER()),
      attribute(OID.messageDigest, new Asn1OctetString({ valueHex: sha(tstDer) }).toBER()),
    ]
      // DER: a SET OF is sorted by the encodings of its elements
      .map((a) => ({ a, der: Buffer.from(AsnConvert.serialize(a)) }))
      .sort((x, y) => Buffer.compare(x.der, y.der))
      .map((x) => x.a);
    // the signature covers the DER of the attributes as a SET (RFC 5652 section 5.4)
    const attrSet = new Asn1Set({ value: attrs.map((a) => fromBER(AsnConvert.serialize(a)).result) });
    const signature = sign('sha256', Buffer.from(attrSet.toBER()), this.key);
    const sha256 = new DigestAlgorithmIdentifier({ algorithm: OID.sha256 });
    const signedData = new SignedData({
      version: CMSVersion.v3,
      digestAlgorithms: new DigestAlgorithmIdentifiers([sha256]),
      encapContentInfo: new EncapsulatedContentInfo({
        eContentType: id_ct_tstInfo,
        eContent: new EncapsulatedContent({ single: new OctetString(tstDer) }),
      }),
      ...(query.certReq
        ? { certificates: new CertificateSet([new CertificateChoices({ certificate: leaf })]) }
        : {}),
      signerInfos: new SignerInfos([
        new SignerInfo({
          version: CMSVersion.v1,
          sid: new SignerIdentifier({
            issuerAndSerialNumber: new IssuerAndSerialNumber({
              issuer: leaf.tbsCertificate.issuer,
              serialNumber: leaf.tbsCertificate.serialNumber,
            }),
          }),
          digestAlgorithm: sha256,
          signedAttrs: attrs,
          signatureAlgorithm: new SignatureAlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 }),
          signature: new OctetString(signature),
        }),
      ]),
    });
    const response = new TimeStampResp({
      status: new PKIStatusInfo({ status: PKIStatus.granted }),
      timeStampToken: new ContentInfo({
        contentType: id_signedData,
        content: AsnConvert.serialize(signedData),
      }),
    });
    return Buffer.from(AsnConvert.serialize(response));
  }
}

/** Reads a DER `TimeStampReq` (`application/timestamp-query`). */
export function parseTimestampRequest(der: Buffer): TimestampQuery {
  let req: TimeStampReq;
  try {
    req = AsnConvert.parse(der, TimeStampReq);
  } catch (e) {
    throw new RekorLocalError('BAD_REQUEST', 'the body is not a DER TimeStampReq', { cause: e });
  }
  return checked({
    hashAlgorithm: req.messageImprint.hashAlgorithm.algorithm,
    digest: Buffer.from(req.messageImprint.hashedMessage.buffer),
    ...(req.nonce ? { nonce: Buffer.from(req.nonce) } : {}),
    certReq: req.certReq,
  });
}

/**
 * Reads sigstore timestamp-authority's JSON request:
 * `{artifactHash: <base64 digest>, hashAlgorithm: "sha256", certificates?: bool, nonce?: number}`.
 */
export function parseJsonTimestampRequest(body: unknown): TimestampQuery {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('expected a JSON object');
  const { artifactHash, hashAlgorithm, certificates, nonce } = body as Record<string, unknown>;
  if (typeof artifactHash !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(artifactHash))
    throw badRequest('artifactHash: expected the base64 digest of the artifact');
  const oid = typeof hashAlgorithm === 'string' ? HASH_NAMES[hashAlgorithm] : undefined;
  if (oid === undefined) throw badRequest('hashAlgorithm: expected sha256, sha384 or sha512');
  if (certificates !== undefined && typeof certificates !== 'boolean')
    throw badRequest('certificates: expected a boolean');
  if (nonce !== undefined && (typeof nonce !== 'number' || !Number.isSafeInteger(nonce) || nonce < 0))
    throw badRequest('nonce: expected a whole number >= 0');
  return checked({
    hashAlgorithm: oid,
    digest: Buffer.from(artifactHash, 'base64'),
    ...(nonce === undefined ? {} : { nonce: integerBytes(nonce as number) }),
    certReq: certificates === true,
  });
}

function checked(query: TimestampQuery): TimestampQuery {
  const length = DIGEST_LENGTHS[query.hashAlgorithm];
  if (length === undefined)
    throw badRequest(`unsupported hash algorithm ${query.hashAlgorithm}; use SHA-256, SHA-384 or SHA-512`);
  if (query.digest.length !== length)
    throw badRequest(`the digest is ${query.digest.length} bytes, not ${length}`);
  if (query.nonce && query.nonce.length > 32) throw badRequest('the nonce is longer than 256 bits');
  return query;
}

function createChain(notBefore: Date): { keyPem: string; chainPem: string } {
  const notAfter = new Date(notBefore.getTime() + 10 * 365 * 24 * 3600 * 1000);
  const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = () => {
    const bytes = randomBytes(16);
    bytes[0] = (bytes[0]! & 0x7f) | 0x01;
    return bytes;
  };
  const rootKeys = pair();
  const leafKeys = pair();
  const root = buildCertificate({
    serial: serial(),
    subject: { organization: 'rekor-budget', commonName: 'rekor-local development TSA root' },
    issuer: undefined,
    publicKey: rootKeys.publicKey,
    issuerKey: rootKeys,
    notBefore,
    notAfter,
    role: 'ca',
  });
  const leaf = buildCertificate({
    serial: serial(),
    subject: { organization: 'rekor-budget', commonName: 'rekor-local development TSA' },
    issuer: root.certificate.tbsCertificate.subject,
    publicKey: leafKeys.publicKey,
    issuerKey: rootKeys,
    notBefore,
    notAfter,
    role: 'timestamping',
  });
  const keyPem = leafKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pem = (der: Buffer) => new X509Certificate(der).toString();
  return { keyPem, chainPem: `${pem(leaf.der)}${pem(root.der)}` };
}

function pemBlocks(text: string): Buffer[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)].map((m) =>
    Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'),
  );
}

function sha(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function integerBytes(n: number): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

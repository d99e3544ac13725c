import { createHash, sign, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
const ORGANIZATION = '2.5.4.10';

/** What a certificate of the development TSA says. */
export interface CertificateSpec {
  /** Positive serial number bytes. */
  serial: Buffer;
  subject: { commonName: string; organization: string };
  /** The issuer's name (the subject for a self-signed root). */
  issuer: Name | undefined;
  publicKey: KeyObject;
  /** Signs the certificate; its public key names the authority key identifier. */
  issuerKey: { privateKey: KeyObject; publicKey: KeyObject };
  notBefore: Date;
  notAfter: Date;
  /** `ca`: a root that signs certificates; `timestamping`: an end entity that signs timestamps. */
  role: 'ca' | 'timestamping';
}

/** Builds and signs (ECDSA P-256, SHA-256) one X.509 v3 certificate; returns it with its DER. */
export function buildCertificate(spec: CertificateSpec): { der: Buffer; certificate: Certificate } {
  const subject = nameOf(spec.subject);
  const extension = (extnID: string, critical: boolean, value: unknown) =>
    new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
  const keyUsage = new KeyUsage(
    spec.role === 'ca' ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign : KeyUsageFlags.digitalSignature,
  );
  const extensions = new Extensions([
    extension(
      id_ce_basicConstraints,
      true,
      new BasicConstraints(spec.role === 'ca' ? { cA: true, pathLenConstraint: 0 } : { cA: false }),
    ),
    extension(id_ce_keyUsage, true, keyUsage),
    ...(spec.role === 'timestamping'
      ? // RFC 3161 section 2.3: the only extended key usage, and critical
        [extension(id_ce_extKeyUsage, true, new ExtendedKeyUsage(['1.3.6.1.5.5.7.3.8']))]
      : []),
    extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId(spec.publicKey))),
    extension(
      id_ce_authorityKeyIdentifier,
      false,
      new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyId(spec.issuerKey.publicKey)) }),
    ),
  ]);
  const algorithm = new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(spec.serial),
    signature: algorithm,
    issuer: spec.issuer ?? subject,
    validity: new Validity({ notBefore: spec.notBefore, notAfter: spec.notAfter }),
    subject,
    subjectPublicKeyInfo: AsnConvert.parse(
      spec.publicKey.export({ type: 'spki', format: 'der' }),
      SubjectPublicKeyInfo,
    ),
    extensions,
  });
  const signature = sign('sha256', Buffer.from(AsnConvert.serialize(tbs)), spec.issuerKey.privateKey);
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm,
    signatureValue: toArrayBuffer(signature),
  });
  return { der: Buffer.from(AsnConvert.serialize(certificate)), certificate };
}

function nameOf(n: { commonName: string; organization: string }): Name {
  const rdn = (type: string, value: string) =>
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) }),
    ]);
  return new Name([rdn(ORGANIZATION, n.organization), rdn(COMMON_NAME, n.commonName)]);
}

/** RFC 5280 section 4.2.1.2 method 1 style key identifier: SHA-1 would do; SHA-256 truncated to 20 bytes. */
function keyId(key: KeyObject): Buffer {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest()
    .subarray(0, 20);
}

export function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

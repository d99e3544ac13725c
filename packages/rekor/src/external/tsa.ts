import { randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { MessageImprint, PKIStatus, TimeStampReq, TimeStampResp } from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { createHash } from 'node:crypto';
import { RekorError } from '../error';
import type { HttpTransport } from './http';

const SHA256 = '2.16.840.1.101.3.4.2.1';

/**
 * An RFC 3161 timestamp authority (`POST <url>` with a DER `TimeStampReq`,
 * `application/timestamp-query`, as sigstore's timestamp-authority and any
 * RFC 3161 TSA accept). `url` is the full endpoint, as a SigningConfig's
 * `tsaUrls` name it (e.g. `https://timestamp.sigstore.dev/api/v1/timestamp`).
 */
export class TimestampClient {
  constructor(
    private readonly http: HttpTransport,
    readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  /**
   * A timestamp over `data` (the SHA-256 of it is sent), with a fresh nonce
   * and the signing certificate: the DER `TimeStampResp` a sigstore bundle
   * carries in `rfc3161Timestamps`. A reply that is not a granted timestamp
   * for this request is `INVALID_RESPONSE`. `timeoutMs` overrides the
   * client's timeout for this request.
   */
  async timestamp(data: Buffer, timeoutMs = this.timeoutMs): Promise<Buffer> {
    const nonce = randomBytes(8);
    nonce[0]! &= 0x7f;
    const digest = createHash('sha256').update(data).digest();
    const request = new TimeStampReq({
      version: 1,
      messageImprint: new MessageImprint({
        hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA256 }),
        hashedMessage: new OctetString(digest),
      }),
      nonce: toArrayBuffer(nonce),
      certReq: true,
    });
    const res = await this.http.request({
      method: 'POST',
      url: this.url,
      body: Buffer.from(AsnConvert.serialize(request)),
      contentType: 'application/timestamp-query',
      accept: 'application/timestamp-reply',
      raw: true,
      timeoutMs,
    });
    const der = res.body as Buffer;
    let reply: TimeStampResp;
    try {
      reply = AsnConvert.parse(der, TimeStampResp);
    } catch (cause) {
      throw new RekorError(
        'INVALID_RESPONSE',
        `the TSA at ${this.url} answered something that is not a TimeStampResp`,
        {
          status: res.status,
          cause,
        },
      );
    }
    const granted =
      reply.status.status === PKIStatus.granted || reply.status.status === PKIStatus.grantedWithMods;
    if (!granted || reply.timeStampToken === undefined) {
      throw new RekorError(
        'INVALID_RESPONSE',
        `the TSA at ${this.url} refused the timestamp (PKIStatus ${reply.status.status})`,
        {
          status: res.status,
        },
      );
    }
    return der;
  }
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

import type { Kysely } from 'kysely';
import type { Sha256Digest, SignedEnvelope, Tier } from '@rekor-budget/core';
import type { Database } from '@rekor-budget/db';

/** Which content an envelope signs. */
export interface EnvelopeKey {
  tenantId: string;
  tier: Tier;
  contentDigest: Sha256Digest;
}

/**
 * `attestor.rekor_envelopes`: the one signed envelope of each content. ECDSA
 * signing is randomized, so two signatures of one content are two different
 * Rekor entries; keeping the first envelope and sending only it makes every
 * later POST of the content Rekor's duplicate (409), whatever path it took.
 */
export interface EnvelopeStore {
  /**
   * The content's envelope: the stored one, else `candidate()` stored first
   * (when two callers race, the first insert wins and both get it).
   */
  obtain(
    key: EnvelopeKey,
    candidate: () => SignedEnvelope | Promise<SignedEnvelope>,
  ): Promise<SignedEnvelope>;
  /** The stored envelope of a content, if any. */
  get(contentDigest: string): Promise<SignedEnvelope | undefined>;
  /**
   * Stores `envelope` as the content's unless one is stored already, and
   * returns the one stored: `obtain` for a caller that has just seen none
   * stored (one round trip when none is).
   */
  storeFirst(key: EnvelopeKey, envelope: SignedEnvelope): Promise<SignedEnvelope>;
}

const TABLE = 'attestor.rekor_envelopes';

const decode = (bytes: Buffer) => JSON.parse(bytes.toString('utf8')) as SignedEnvelope;

export function createEnvelopeStore(db: Kysely<Database>): EnvelopeStore {
  async function get(contentDigest: string): Promise<SignedEnvelope | undefined> {
    const row = await db
      .selectFrom(TABLE)
      .select('envelope')
      .where('content_digest', '=', contentDigest)
      .executeTakeFirst();
    return row ? decode(row.envelope) : undefined;
  }

  async function storeFirst(key: EnvelopeKey, envelope: SignedEnvelope): Promise<SignedEnvelope> {
    const inserted = await db
      .insertInto(TABLE)
      .values({
        content_digest: key.contentDigest,
        tenant_id: key.tenantId,
        tier: key.tier,
        envelope: Buffer.from(JSON.stringify(envelope)),
      })
      .onConflict((oc) => oc.column('content_digest').doNothing())
      .returning('content_digest')
      .executeTakeFirst();
    if (inserted) return envelope;
    const winner = await get(key.contentDigest);
    if (!winner) throw new Error(`the envelope of ${key.contentDigest} vanished while it was being stored`);
    return winner;
  }

  return {
    get,
    async obtain(key, candidate) {
      return (await get(key.contentDigest)) ?? storeFirst(key, await candidate());
    },
    storeFirst,
  };
}

/**
 * Domain types of rekor-budget.
 *
 * Glossary
 * --------
 * - **tenant**: one customer of the scanners, identified by a UUID. Budgets,
 *   quotas and receipts are kept per tenant.
 * - **tier**: the kind of attestation. `graph` (Tier 1) is one DSSE envelope
 *   per completed scan, carrying the call-graph digest; `edge` (Tier 2) is an
 *   edge bundle submitted only when a finding is escalated.
 * - **submission**: one attestation on its way to Rekor, from the producer's
 *   `submit*` call to its receipt. A submission is identified by a job id
 *   derived from its content, so the same scan submitted twice is one
 *   submission.
 * - **budget**: how many submissions a tenant may send to Rekor per window
 *   and tier (Tier 1: `hourlyLimit` per hour and a burst cap per
 *   `burstWindow`; Tier 2: `edgeBundleDailyLimit` per day).
 * - **window**: a rolling span of time over which a budget is counted (60
 *   minutes, the burst window, or 24 hours). A unit spent at `t` leaves the
 *   window at `t + window`.
 * - **receipt**: Rekor's proof that a submission is in the log: entry uuid,
 *   log index, integrated time and the sigstore bundle, kept in
 *   `attestor.rekor_entries`.
 * - **offline queue**: a Postgres table (owned by `@rekor-budget/queue`) where
 *   submissions wait when Redis is full or away, when Rekor is unreachable,
 *   or when the site is air-gapped.
 * - **drain**: replaying the offline queue into the tier queues once Rekor
 *   (and Redis) answer again.
 */

/** The two submission tiers. */
export const TIERS = ['graph', 'edge'] as const;
export type Tier = (typeof TIERS)[number];

/** A tenant id: a UUID in canonical lower-case form. */
export type TenantId = string & { readonly __tenant: unique symbol };

/** `rekor.tier`: whether Tier 2 edge bundles may be submitted at all. */
export const TIER_MODES = ['graph-only', 'with-edges'] as const;
export type TierMode = (typeof TIER_MODES)[number];

/** What can escalate a finding into a Tier 2 edge bundle. */
export const EDGE_TRIGGERS = ['cvss', 'policy_gate', 'manual'] as const;
export type EdgeTrigger = (typeof EDGE_TRIGGERS)[number];

/** A `sha256:<64 hex>` digest. */
export type Sha256Digest = `sha256:${string}`;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHA256_RE = /^sha256:[0-9a-f]{64}$/;

export function isTier(value: unknown): value is Tier {
  return typeof value === 'string' && (TIERS as readonly string[]).includes(value);
}

export function isTenantId(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}

export function isSha256Digest(value: unknown): value is Sha256Digest {
  return typeof value === 'string' && SHA256_RE.test(value);
}

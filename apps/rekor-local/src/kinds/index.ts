import { RekorLocalError } from '../errors';
import { canonicalizeDsse } from './dsse';
import { canonicalizeHashedRekord } from './hashedrekord';
import { canonicalizeIntoto } from './intoto';
import { object, string } from './fields';
import type { CanonicalEntry } from './types';

export type { CanonicalEntry } from './types';

const KINDS: Record<string, Record<string, (spec: Record<string, unknown>) => Promise<CanonicalEntry>>> = {
  dsse: { '0.0.1': canonicalizeDsse },
  intoto: { '0.0.2': canonicalizeIntoto },
  hashedrekord: { '0.0.1': canonicalizeHashedRekord },
};

/** The kinds and versions this log accepts, e.g. `dsse 0.0.1`. */
export const SUPPORTED_KINDS: readonly string[] = Object.entries(KINDS).flatMap(([kind, versions]) =>
  Object.keys(versions).map((v) => `${kind} ${v}`),
);

/** Checks a proposed entry (as POSTed), verifies its signatures and returns the body to log. */
export async function canonicalizeProposedEntry(input: unknown): Promise<CanonicalEntry> {
  const entry = object(input, 'entry');
  const kind = string(entry.kind, 'kind');
  const apiVersion = string(entry.apiVersion, 'apiVersion');
  const versions = Object.hasOwn(KINDS, kind) ? KINDS[kind]! : {};
  const canonicalize = Object.hasOwn(versions, apiVersion) ? versions[apiVersion] : undefined;
  if (!canonicalize) {
    throw new RekorLocalError(
      'UNSUPPORTED_KIND',
      `kind ${kind} ${apiVersion} is not supported; use one of: ${SUPPORTED_KINDS.join(', ')}`,
    );
  }
  return canonicalize(object(entry.spec, 'spec'));
}

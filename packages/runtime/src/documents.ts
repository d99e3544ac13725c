import { readFile } from 'node:fs/promises';
import type { RekorConfig } from '@rekor-budget/core';
import { parseSigningConfig, type SigningConfig } from '@rekor-budget/rekor';
import { RuntimeError } from './error';

/** How long fetching a trusted root or signing config by URL may take. */
const FETCH_TIMEOUT_MS = 10_000;

/** The documents `attestor.rekor.trustedRoot` and `signingConfig` name, read once at start. */
export interface RekorTrustDocuments {
  trustedRoot?: unknown;
  signingConfig?: SigningConfig;
}

/**
 * Reads `trustedRoot` and `signingConfig` (each a file path or an http(s)
 * URL). A document that cannot be read or is not what it should be is
 * `INVALID_DOCUMENT`, naming the key and what to do.
 */
export async function loadTrustDocuments(
  config: Partial<Pick<RekorConfig, 'trustedRoot' | 'signingConfig'>>,
): Promise<RekorTrustDocuments> {
  const out: RekorTrustDocuments = {};
  if (config.trustedRoot !== undefined)
    out.trustedRoot = await readJsonDocument(config.trustedRoot, 'trustedRoot');
  if (config.signingConfig !== undefined) {
    const doc = await readJsonDocument(config.signingConfig, 'signingConfig');
    try {
      out.signingConfig = parseSigningConfig(doc);
    } catch (e) {
      throw new RuntimeError(
        'INVALID_DOCUMENT',
        'rekor',
        `attestor.rekor.signingConfig (${config.signingConfig}): ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  }
  return out;
}

async function readJsonDocument(source: string, key: string): Promise<unknown> {
  let text: string;
  try {
    if (/^https?:\/\//i.test(source)) {
      const res = await fetch(source, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } else {
      text = await readFile(source, 'utf8');
    }
  } catch (e) {
    throw new RuntimeError(
      'INVALID_DOCUMENT',
      'rekor',
      `attestor.rekor.${key}: cannot read ${source} (${(e as Error).message}); check the path or URL`,
      { cause: e },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new RuntimeError('INVALID_DOCUMENT', 'rekor', `attestor.rekor.${key}: ${source} is not JSON`, {
      cause: e,
    });
  }
}

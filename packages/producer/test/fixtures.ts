import { randomUUID } from 'node:crypto';
import { parseConfigObject, type RekorConfig } from '@rekor-budget/core';

import { graphInput } from '@rekor-budget/testing';

export { graphInput };

export function edgeInput(tenantId: string, scanId: string, cvss = 9.8) {
  return {
    ...graphInput(tenantId, scanId),
    finding: { cveId: 'CVE-2024-3094', cvss, reachable: true },
    edges: [
      { from: 'main', to: 'decompress' },
      { from: 'decompress', to: 'lzma_decode' },
    ],
  };
}

/** A configuration with test-specific overrides of `attestor.rekor`. */
export function testConfig(
  rekor: Record<string, unknown>,
  env: Record<string, string | undefined> = {},
): RekorConfig {
  return parseConfigObject({ attestor: { rekor } }, { source: 'test', env });
}

export const tenant = () => randomUUID();

import { randomUUID } from 'node:crypto';
import { parseConfigObject, type RekorConfig } from '@rekor-budget/core';

export const digest = (seed: string) =>
  `sha256:${Buffer.from(seed.padEnd(32, '.')).toString('hex').slice(0, 64)}`;

export function graphInput(tenantId: string, scanId: string) {
  return {
    tenantId,
    scanId,
    subject: { name: 'registry.example/app', digest: digest(`img-${scanId}`) },
    graphDigest: digest(`graph-${scanId}`),
    scanner: { name: 'stella-scanner', version: '1.4.2' },
    scanFinishedAt: '2025-12-20T10:00:00Z',
  };
}

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

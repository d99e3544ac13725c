/** A sha256 digest of one repeated hex character. */
export const D = (c: string) => `sha256:${c.repeat(64)}`;

/** A valid Tier 1 input, tenant id in upper case (validation lowers it). */
export const graph = {
  tenantId: '3F1C2A9E-8B7D-4E6F-9A1B-2C3D4E5F6A7B',
  scanId: 'scan-1',
  subject: { name: 'registry.example/app', digest: D('a') },
  graphDigest: D('b'),
  scanner: { name: 'stella-scanner', version: '1.4.2' },
  scanFinishedAt: '2025-12-20T10:00:00Z',
};

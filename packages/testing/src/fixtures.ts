/** A deterministic `sha256:<hex>` digest from a seed (test data, not a real hash). */
export function testDigest(seed: string): string {
  return `sha256:${Buffer.from(seed.padEnd(32, '.')).toString('hex').slice(0, 64)}`;
}

/** A valid Tier 1 input for one scan. */
export function graphInput(tenantId: string, scanId: string) {
  return {
    tenantId,
    scanId,
    subject: { name: 'registry.example/app', digest: testDigest(`img-${scanId}`) },
    graphDigest: testDigest(`graph-${scanId}`),
    scanner: { name: 'stella-scanner', version: '1.4.2' },
    scanFinishedAt: '2025-12-20T10:00:00Z',
  };
}

/** A valid Tier 2 input: a reachable finding (CVSS `cvss`) and its call path. */
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

/** Polls `check` every 25 ms until it holds (no fixed sleeps); fails after `timeoutMs`. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

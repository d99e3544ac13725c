import { createHash, randomUUID } from 'node:crypto';
import type { RekorProducer } from '@rekor-budget/producer';

/** The demo's tenants: names for people, UUIDs for the system. */
export const DEMO_TENANTS = [
  { name: 'acme', id: '6f1d3c2a-0b4e-4f5a-9c8d-7e6f5a4b3c2d' },
  { name: 'globex', id: '0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d' },
  { name: 'initech', id: '5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b' },
] as const;

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** A realistic Tier 1 input for one completed scan. */
export function demoGraph(tenantId: string, run: string, i: number, at: number = Date.now()) {
  const scanId = `demo-${run}-${i}`;
  return {
    tenantId,
    scanId,
    subject: { name: `registry.example/team-${i % 7}/service`, digest: sha(`image-${scanId}`) },
    graphDigest: sha(`callgraph-${scanId}`),
    scanner: { name: 'stella-scanner', version: '1.4.2' },
    scanStartedAt: new Date(at - 90_000).toISOString(),
    scanFinishedAt: new Date(at).toISOString(),
    metadata: { pipeline: 'demo', run },
  };
}

/** A Tier 2 input: a reachable critical CVE with its call path. */
export function demoEdge(
  tenantId: string,
  run: string,
  i: number,
  escalation: 'cvss' | 'gate' | 'manual',
  at: number = Date.now(),
) {
  const base = demoGraph(tenantId, `${run}-edge`, i, at);
  const edges = Array.from({ length: 120 }, (_, k) => ({
    from: `com.example.svc.Handler${k}.handle`,
    to: k === 119 ? 'org.tukaani.xz.LZMADecoder.decode' : `com.example.svc.Handler${k + 1}.handle`,
    kind: 'call',
  }));
  return {
    ...base,
    finding: {
      cveId: 'CVE-2024-3094',
      cvss: escalation === 'cvss' ? 10.0 : 6.5,
      reachable: true,
    },
    edges,
    escalation:
      escalation === 'gate'
        ? { policyGate: { name: 'prod-release', requireProof: true } }
        : escalation === 'manual'
          ? { manual: { requestedBy: 'security-team', reason: 'customer escalation' } }
          : {},
  };
}

export interface WorkloadHooks {
  log(line: string): void;
  /** Rekor goes away (connections refused). */
  outageStart(): Promise<void>;
  /** Waits while Rekor is away; `submitted` submissions were accepted during the outage. */
  outageWait(submitted: number): Promise<void>;
  /** Rekor answers again. */
  outageEnd(): Promise<void>;
  /** Resolves after `ms`, or early when the demo is stopped. */
  pause(ms: number): Promise<void>;
  stopped(): boolean;
}

export interface WorkloadCounts {
  submitted: number;
  queued: number;
  overflowed: number;
  duplicates: number;
  refused: number;
}

export interface WorkloadResult extends WorkloadCounts {
  byTenant: Map<string, WorkloadCounts>;
  /** Content digests the system accepted (queued or overflowed), with their tenant: each must end in the log. */
  accepted: Map<string, string>;
}

const zero = (): WorkloadCounts => ({ submitted: 0, queued: 0, overflowed: 0, duplicates: 0, refused: 0 });

/**
 * The demo workload: three tenants, a burst beyond acme's budget, a few
 * escalations, a duplicate, one Rekor outage and its drain.
 */
export async function runWorkload(producer: RekorProducer, hooks: WorkloadHooks): Promise<WorkloadResult> {
  const run = randomUUID().slice(0, 8);
  // one scan time per run, so a re-submitted scan has the same content
  const at = Date.now();
  const counts: WorkloadResult = { ...zero(), byTenant: new Map(), accepted: new Map() };
  const [acme, globex, initech] = DEMO_TENANTS;
  const track = async (tenantId: string, p: Promise<{ status: string; contentDigest: string }>) => {
    const mine = counts.byTenant.get(tenantId) ?? zero();
    counts.byTenant.set(tenantId, mine);
    const bump = (k: keyof WorkloadCounts) => {
      counts[k]++;
      mine[k]++;
    };
    bump('submitted');
    try {
      const r = await p;
      if (r.status === 'queued') bump('queued');
      else if (r.status === 'overflowed') bump('overflowed');
      else bump('duplicates');
      if (r.status !== 'duplicate') counts.accepted.set(r.contentDigest, tenantId);
    } catch (e) {
      bump('refused');
      hooks.log(`  refused: ${(e as Error).message} [${(e as { code?: string }).code}]`);
    }
  };

  hooks.log(`demo: acme finishes 45 scans at once (its burst cap is 33 per 10 minutes: 12 must wait)`);
  for (let i = 0; i < 45 && !hooks.stopped(); i++)
    await track(acme.id, producer.submitGraphAttestation(demoGraph(acme.id, run, i, at)));
  hooks.log(`demo: globex and initech scan at their usual pace`);
  for (let i = 0; i < 10 && !hooks.stopped(); i++) {
    await track(globex.id, producer.submitGraphAttestation(demoGraph(globex.id, run, i, at)));
    await track(initech.id, producer.submitGraphAttestation(demoGraph(initech.id, run, i, at)));
    await hooks.pause(200);
  }
  hooks.log('demo: the same globex scan is submitted again (a duplicate, logged once)');
  await track(globex.id, producer.submitGraphAttestation(demoGraph(globex.id, run, 0, at)));

  hooks.log(
    'demo: three findings escalate to Tier 2 edge bundles (CVSS 10 reachable, a policy gate, a manual request)',
  );
  await track(acme.id, producer.submitEdgeBundle(demoEdge(acme.id, run, 1, 'cvss', at)));
  await track(globex.id, producer.submitEdgeBundle(demoEdge(globex.id, run, 2, 'gate', at)));
  await track(initech.id, producer.submitEdgeBundle(demoEdge(initech.id, run, 3, 'manual', at)));
  hooks.log('demo: a CVSS 6.5 finding with no escalation is refused (edge bundles only on escalation)');
  const low = {
    ...demoEdge(initech.id, run, 4, 'cvss', at),
    finding: { cveId: 'CVE-2023-1234', cvss: 6.5, reachable: true },
  };
  await track(initech.id, producer.submitEdgeBundle(low));

  await hooks.pause(5_000);
  if (hooks.stopped()) return counts;
  hooks.log('demo: Rekor goes offline; new submissions retry, then wait in the offline queue');
  await hooks.outageStart();
  const before = counts.accepted.size;
  for (let i = 10; i < 18 && !hooks.stopped(); i++) {
    await track(globex.id, producer.submitGraphAttestation(demoGraph(globex.id, run, i, at)));
    await track(initech.id, producer.submitGraphAttestation(demoGraph(initech.id, run, i, at)));
  }
  await hooks.outageWait(counts.accepted.size - before);
  if (hooks.stopped()) return counts;
  hooks.log('demo: Rekor is back; the drain worker notices on its next probe and replays the offline queue');
  await hooks.outageEnd();
  return counts;
}

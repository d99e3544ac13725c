import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import {
  contentDigest,
  type EdgeBundleInput,
  type GraphAttestationInput,
  type Submission,
} from '@rekor-budget/core';

export const TENANT = '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b';
export const D = (c: string): `sha256:${string}` => `sha256:${c.repeat(64)}`;

/** A Tier 1 submission; `scanId` makes it unique. */
export function graphSubmission(scanId = 'scan-1'): Submission {
  const input: GraphAttestationInput = {
    tenantId: TENANT,
    scanId,
    subject: { name: 'registry.example/app', digest: D('a') },
    graphDigest: D('b'),
    scanner: { name: 'stella-scanner', version: '1.4.2' },
    scanStartedAt: '2025-12-20T09:58:00.000Z',
    scanFinishedAt: '2025-12-20T10:00:00.000Z',
    metadata: { branch: 'main', commit: 'c0ffee' },
  };
  return { version: 1, tier: 'graph', contentDigest: contentDigest('graph', input), input };
}

/** A Tier 2 submission with `edgeCount` edges of reachable paths. */
export function edgeSubmission(edgeCount = 200, scanId = 'scan-2'): Submission {
  const edges = Array.from({ length: edgeCount }, (_, i) => ({
    from: `com.example.app.Service${i}.handle(Request)`,
    to: `org.vulnerable.lib.Decoder${i}.decode(byte[])`,
    kind: 'call',
  }));
  const input: EdgeBundleInput = {
    tenantId: TENANT,
    scanId,
    subject: { name: 'registry.example/app', digest: D('a') },
    graphDigest: D('b'),
    scanner: { name: 'stella-scanner', version: '1.4.2' },
    finding: { cveId: 'CVE-2024-3094', cvss: 9.8, reachable: true },
    escalation: { manual: { requestedBy: 'secteam@example.com', reason: 'exploit in the wild' } },
    edges,
  };
  return {
    version: 1,
    tier: 'edge',
    contentDigest: contentDigest('edge', input),
    input,
    triggers: ['cvss', 'manual'],
  };
}

/** The code of what `fn` threw (fails the test when nothing was thrown). */
export async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return (e as { code: string }).code;
  }
  throw new Error('nothing was thrown');
}

/** A local port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A log whose every answer is scripted: `url`, the requests it received, `close()`. */
export interface ScriptedLog {
  readonly url: string;
  /** `METHOD path` of each request received, in order. */
  readonly requests: string[];
  /** Stops listening and resets every open connection. */
  close(): Promise<void>;
}

/**
 * A node:http server answering each request with `script` (which may also
 * never answer, or destroy the socket). For what rekor-local cannot do.
 */
export async function scriptedLog(
  script: (req: IncomingMessage, res: ServerResponse, n: number) => void,
): Promise<ScriptedLog> {
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    // the request body is read whatever the script does, so a reset is a reset and not a half-sent body
    req.resume();
    script(req, res, requests.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Answers `status` with `body` (JSON unless a string) and `headers`. */
export function answer(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/html' : 'application/json';
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { RekorLocalError } from '../errors';
import type { TransparencyLog } from '../log/transparency-log';
import type { RekorApiMode } from '../options';
import { parseTilePath } from '../tiles/layout';
import type { TrustedRootJson } from '../trusted-root';
import type { TimestampAuthority } from '../tsa/authority';
import { createEntryV2 } from './entries-v2';
import { createEntry, getEntryByIndex, getEntryByUuid, retrieveEntries, searchIndex } from './entries';
import { getConsistencyProof, getLogInfo, getPublicKey } from './log-info';
import { sendGrpcFailure, sendJson } from './respond';
import { getCheckpoint, getTile } from './tiles';
import { createTimestamp, getCertChain } from './timestamp';

/** What the API handlers need. */
export interface ApiContext {
  log: TransparencyLog;
  bodyLimitBytes: number;
  /** The Rekor APIs served. */
  api: RekorApiMode;
  tsa: TimestampAuthority;
  trustedRoot(): TrustedRootJson;
}

/**
 * Routes one API request; throws RekorLocalError for anything it refuses.
 * The TSA (`/api/v1/timestamp`, a timestamp-authority path, not Rekor's) and
 * `/trusted_root.json` are served in every mode; Rekor v1 paths only with
 * `api` v1/both, the v2 write path and the tlog-tiles reads only with v2/both.
 */
export async function routeApi(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: ApiContext,
): Promise<void> {
  const { log, bodyLimitBytes } = ctx;
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  const only = (allowed: string) => {
    if (method !== allowed)
      throw new RekorLocalError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`);
  };
  switch (path) {
    case '/trusted_root.json':
      only('GET');
      return sendJson(res, 200, ctx.trustedRoot());
    case '/api/v1/timestamp':
      only('POST');
      return createTimestamp(req, res, ctx.tsa);
    case '/api/v1/timestamp/certchain':
      only('GET');
      return getCertChain(res, ctx.tsa);
  }
  if (ctx.api !== 'v1') {
    if (path === '/api/v2/log/entries') {
      // errors in rekor-tiles' shape on its write path
      return (async () => {
        only('POST');
        await createEntryV2(req, res, log, bodyLimitBytes);
      })().catch((e: unknown) => sendGrpcFailure(res, e));
    }
    if (path === '/checkpoint') {
      only('GET');
      return getCheckpoint(res, log);
    }
    const tile = parseTilePath(path);
    if (tile !== undefined) {
      only('GET');
      return getTile(res, log, tile);
    }
  }
  if (ctx.api !== 'v2') return routeV1(req, res, url, path, ctx, only);
  throw new RekorLocalError('NOT_FOUND', `no such path: ${path}`);
}

function routeV1(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  path: string,
  ctx: ApiContext,
  only: (allowed: string) => void,
): Promise<void> | void {
  const { log, bodyLimitBytes } = ctx;
  switch (path) {
    case '/api/v1/log/entries':
      if (req.method === 'POST') return createEntry(req, res, log, bodyLimitBytes);
      only('GET');
      return getEntryByIndex(res, log, url.searchParams.get('logIndex'));
    case '/api/v1/log/entries/retrieve':
      only('POST');
      return retrieveEntries(req, res, log, bodyLimitBytes);
    case '/api/v1/index/retrieve':
      only('POST');
      return searchIndex(req, res, log, bodyLimitBytes);
    case '/api/v1/log':
      only('GET');
      return getLogInfo(res, log);
    case '/api/v1/log/proof':
      only('GET');
      return getConsistencyProof(res, log, url.searchParams);
    case '/api/v1/log/publicKey':
      only('GET');
      return getPublicKey(res, log);
  }
  const uuid = /^\/api\/v1\/log\/entries\/([^/]+)$/.exec(path)?.[1];
  if (uuid !== undefined) {
    only('GET');
    return getEntryByUuid(res, log, uuid);
  }
  throw new RekorLocalError('NOT_FOUND', `no such path: ${path}`);
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { RekorLocalError } from '../errors';
import type { TransparencyLog } from '../log/transparency-log';
import type { TrustedRootJson } from '../trusted-root';
import { createEntryV2 } from './entries-v2';
import { createEntry, getEntryByIndex, getEntryByUuid, retrieveEntries, searchIndex } from './entries';
import { getConsistencyProof, getLogInfo, getPublicKey } from './log-info';
import { sendJson } from './respond';

/** What the API handlers need. */
export interface ApiContext {
  log: TransparencyLog;
  bodyLimitBytes: number;
  trustedRoot(): TrustedRootJson;
}

/** Routes one Rekor v1 API request; throws RekorLocalError for anything it refuses. */
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
    case '/api/v1/log/entries':
      if (method === 'POST') return createEntry(req, res, log, bodyLimitBytes);
      only('GET');
      return getEntryByIndex(res, log, url.searchParams.get('logIndex'));
    case '/api/v2/log/entries':
      only('POST');
      return createEntryV2(req, res, log, bodyLimitBytes);
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
    case '/trusted_root.json':
      only('GET');
      return sendJson(res, 200, ctx.trustedRoot());
  }
  const uuid = /^\/api\/v1\/log\/entries\/([^/]+)$/.exec(path)?.[1];
  if (uuid !== undefined) {
    only('GET');
    return getEntryByUuid(res, log, uuid);
  }
  throw new RekorLocalError('NOT_FOUND', `no such path: ${path}`);
}

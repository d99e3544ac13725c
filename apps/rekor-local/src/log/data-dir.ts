import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogKey } from '../crypto/log-key';
import { RekorLocalError } from '../errors';

/** What identifies a log, kept in `log.json`. */
export interface LogMeta {
  version: 1;
  /** Tree ID, a decimal 63-bit number as Rekor reports it. */
  treeId: string;
  /** Name in checkpoint signatures; verifiers match it against the log's URL (a host name). */
  name: string;
  /** When the log key was made (whole seconds, ISO 8601): the start of its validity. */
  createdAt: string;
}

/** Files of a data directory. */
export const DATA_FILES = {
  key: 'log-key.pem',
  meta: 'log.json',
  entries: 'entries.jsonl',
  lock: 'LOCK',
} as const;

/** Opens a data directory, creating the key and `log.json` on first start. */
export function openDataDir(dir: string, name: string): { key: LogKey; meta: LogMeta } {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new RekorLocalError(
      'DATA_DIR_INVALID',
      `cannot create data directory ${dir}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const keyPath = join(dir, DATA_FILES.key);
  const metaPath = join(dir, DATA_FILES.meta);
  if (!existsSync(keyPath)) {
    const key = LogKey.generate();
    const meta: LogMeta = {
      version: 1,
      treeId: (randomBytes(8).readBigUInt64BE() >> 1n).toString(),
      name,
      createdAt: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString(),
    };
    writeFileSync(metaPath, `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o644 });
    writeFileSync(keyPath, key.privatePem(), { mode: 0o600 });
    return { key, meta };
  }
  try {
    const key = LogKey.fromPem(readFileSync(keyPath, 'utf8'));
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as LogMeta;
    if (meta.version !== 1 || typeof meta.treeId !== 'string' || typeof meta.name !== 'string') {
      throw new Error(`${metaPath} is not a rekor-local log.json`);
    }
    return { key, meta };
  } catch (e) {
    throw new RekorLocalError(
      'DATA_DIR_INVALID',
      `data directory ${dir} is damaged: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

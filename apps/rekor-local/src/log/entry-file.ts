import { closeSync, fdatasync, ftruncateSync, openSync, readFileSync, write } from 'node:fs';
import { RekorLocalError } from '../errors';

/** One logged entry as stored: one JSON line of `entries.jsonl`. */
export interface StoredEntry {
  /** Log index. */
  i: number;
  /** Integrated time, Unix seconds. */
  t: number;
  /** Canonical body, base64. */
  b: string;
  /** Signed entry timestamp, base64. */
  s: string;
}

/**
 * The append-only entry file. Lines are written in batches (group commit):
 * every append waits for the batch that holds it, and a batch is one write,
 * followed by `fdatasync` when `fsync` is on, so an acknowledged entry is on
 * disk. A torn last line (a crash mid-write) is cut off when the file is
 * opened; a bad line anywhere else refuses to open.
 */
export class EntryFile {
  private readonly fd: number;
  private queue: { line: string; done: (err?: Error) => void }[] = [];
  private flushing = false;
  private closed = false;

  private constructor(
    fd: number,
    private readonly fsync: boolean,
  ) {
    this.fd = fd;
  }

  /** Opens (creating if needed) the file and returns its entries in order. */
  static open(path: string, fsync: boolean): { file: EntryFile; entries: StoredEntry[] } {
    const text = readOrEmpty(path);
    const entries: StoredEntry[] = [];
    let at = 0;
    while (at < text.length) {
      const nl = text.indexOf('\n', at);
      if (nl === -1) break;
      const entry = parseLine(text.slice(at, nl));
      if (!entry || entry.i !== entries.length) {
        throw new RekorLocalError(
          'DATA_DIR_INVALID',
          `${path}: line ${entries.length + 1} is not entry ${entries.length}; the log is damaged`,
        );
      }
      entries.push(entry);
      at = nl + 1;
    }
    const good = Buffer.byteLength(text.slice(0, at), 'utf8');
    const fd = openSync(path, 'a+', 0o644);
    if (at < text.length) ftruncateSync(fd, good);
    return { file: new EntryFile(fd, fsync), entries };
  }

  /** Appends one entry; resolves once its batch is written (and synced). */
  append(entry: StoredEntry): Promise<void> {
    if (this.closed) return Promise.reject(new RekorLocalError('STORAGE_FAILED', 'the entry file is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ line: `${JSON.stringify(entry)}\n`, done: (err) => (err ? reject(err) : resolve()) });
      if (!this.flushing) this.flush();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) {
      this.flushing = false;
      return;
    }
    this.flushing = true;
    const data = Buffer.from(batch.map((b) => b.line).join(''), 'utf8');
    const finish = (err: NodeJS.ErrnoException | null) => {
      const failure = err
        ? new RekorLocalError('STORAGE_FAILED', `writing the entry file failed: ${err.message}`, {
            cause: err,
          })
        : undefined;
      for (const b of batch) b.done(failure);
      this.flush();
    };
    writeAll(this.fd, data, (err) => {
      if (err || !this.fsync) finish(err);
      else fdatasync(this.fd, finish);
    });
  }
}

function writeAll(fd: number, data: Buffer, cb: (err: NodeJS.ErrnoException | null) => void): void {
  write(fd, data, 0, data.length, null, (err, written) => {
    if (err) cb(err);
    else if (written < data.length) writeAll(fd, data.subarray(written), cb);
    else cb(null);
  });
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

function parseLine(line: string): StoredEntry | undefined {
  try {
    const e = JSON.parse(line) as StoredEntry;
    const ok =
      Number.isInteger(e.i) && Number.isInteger(e.t) && typeof e.b === 'string' && typeof e.s === 'string';
    return ok ? e : undefined;
  } catch {
    return undefined;
  }
}

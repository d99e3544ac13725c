/**
 * What packages log through. Apps pass a pino logger (JSON lines in
 * production, pretty in `start`); packages never create one, and never drop
 * an error silently: what they skip, they say here.
 */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  /** A logger that adds `bindings` to every line, e.g. `{ component: 'drain' }`. */
  child(bindings: Record<string, unknown>): Logger;
}

const noop: LogFn = () => undefined;

/** A logger that writes nothing: the default where a caller passes none (tests, libraries). */
export const silentLogger: Logger = {
  error: noop,
  warn: noop,
  info: noop,
  debug: noop,
  child: () => silentLogger,
};

/** The `error` field of a log line: name, message and code of any thrown value (no stack). */
export function errorFields(err: unknown): { error: { message: string; code?: string; name?: string } } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      error: { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) },
    };
  }
  return { error: { message: String(err) } };
}

/** What a repeat gate decides for one event. */
export type RepeatVerdict = { pass: true; heldBack: number } | { pass: false };

/**
 * Keeps a storm of one error from flooding the log (a connection loop that
 * fails every few milliseconds while Redis is away): the first event of a
 * kind passes at once, then at most one per `windowMs`, telling how many it
 * held back since the last one that passed.
 */
export function createRepeatGate(
  windowMs: number,
  clock: () => number = Date.now,
): (kind: string) => RepeatVerdict {
  const seen = new Map<string, { at: number; held: number }>();
  return (kind) => {
    const now = clock();
    const last = seen.get(kind);
    if (last && now >= last.at && now - last.at < windowMs) {
      last.held++;
      return { pass: false };
    }
    // a bounded memory of kinds: many distinct errors are few enough to log
    if (!last && seen.size >= 100) seen.clear();
    seen.set(kind, { at: now, held: 0 });
    return { pass: true, heldBack: last?.held ?? 0 };
  };
}

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

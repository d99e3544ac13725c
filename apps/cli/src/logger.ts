import pino from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { Logger } from '@rekor-budget/core';
import type { CliIo } from './io';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The process logger: JSON lines (pino) for long-running commands, the form
 * log collectors read; `pretty` for `start` and `demo`, where a person reads
 * them. Level from LOG_LEVEL (default `info`). Lines go through `io`: to
 * stdout for services, to stderr for one-shot commands (whose stdout is their
 * result, often JSON).
 */
export function createCliLogger(
  io: CliIo,
  options: {
    pretty?: boolean;
    stream?: 'out' | 'err';
    /** Lines whose message this returns true for are not written (something else summarises them). */
    drop?: (message: string) => boolean;
  } = {},
): Logger {
  const drop = options.drop;
  const write = options.stream === 'err' ? io.err : io.out;
  const wanted = io.env.LOG_LEVEL?.toLowerCase();
  const level = (LEVELS as readonly string[]).includes(wanted ?? '') ? wanted! : 'info';
  const prettify = options.pretty
    ? prettyFactory({
        colorize: false,
        translateTime: 'SYS:HH:MM:ss',
        ignore: 'pid,hostname,component,tier',
        singleLine: true,
        // errors are plain `{ name, message, code }` fields (see errorFields): print them inline
        errorLikeObjectKeys: [],
      })
    : undefined;
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(drop
        ? {
            hooks: {
              logMethod(args: Parameters<pino.LogFn>, method: pino.LogFn) {
                const message = args.find((a: unknown): a is string => typeof a === 'string');
                if (message !== undefined && drop(message)) return;
                method.apply(this, args);
              },
            },
          }
        : {}),
    },
    { write: (line: string) => write(prettify ? prettify(line) : line) },
  );
}

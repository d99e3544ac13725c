/** Lengths of time in milliseconds, the unit of every `...Ms` value. */
export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

const RFC3339_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
const RFC3339_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `day` exists in `month` (1-12) of `year` (proleptic Gregorian). */
function isCalendarDay(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

/**
 * An RFC 3339 date-time (`2025-12-20T10:00:00Z`, `2025-12-20T11:00:00.5+01:00`)
 * as epoch ms, or `NaN` for anything else: a time without its offset (which
 * `Date.parse` would read in the local time zone), a day the calendar does
 * not have (`2025-02-30`, which `Date.parse` moves to March), an hour, minute
 * or second out of range. Leap seconds (`:60`) are refused: a `Date` cannot
 * hold them.
 */
export function rfc3339TimeMs(text: string): number {
  const m = RFC3339_TIME.exec(text);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s, , oh, om] = m;
  if (!isCalendarDay(Number(y), Number(mo), Number(d))) return NaN;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return NaN;
  if (oh !== undefined && (Number(oh) > 23 || Number(om) > 59)) return NaN;
  return Date.parse(text);
}

/** `rfc3339TimeMs` as a `Date`, or `undefined`. */
export function parseRfc3339Time(text: string): Date | undefined {
  const ms = rfc3339TimeMs(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** An RFC 3339 full date (`2025-12-20`) as the `Date` of its first instant in UTC, or `undefined`. */
export function parseRfc3339Date(text: string): Date | undefined {
  const m = RFC3339_DATE.exec(text);
  if (!m || !isCalendarDay(Number(m[1]), Number(m[2]), Number(m[3]))) return undefined;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
}

/** Resolves with `work`, or rejects with `onTimeout()` once `ms` have passed without its answer. */
export function within<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

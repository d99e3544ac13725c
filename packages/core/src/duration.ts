import { MINUTE_MS, SECOND_MS } from './time';

/**
 * Durations in the spec's .NET TimeSpan form: `"hh:mm:ss"` or
 * `"d.hh:mm:ss"`, optionally with a fraction of a second (`"00:00:00.250"`).
 */
const DURATION_RE = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/;

/** Parses a duration into milliseconds; `undefined` if it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  const days = m[1] === undefined ? 0 : Number(m[1]);
  const hours = Number(m[2]);
  const minutes = Number(m[3]);
  const seconds = Number(m[4]);
  const fraction = m[5] === undefined ? 0 : Number(`0.${m[5]}`);
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const ms = ((days * 24 + hours) * 60 + minutes) * MINUTE_MS + (seconds + fraction) * SECOND_MS;
  return Math.round(ms);
}

/** Formats milliseconds back into `"hh:mm:ss"` (or `"d.hh:mm:ss"`). */
export function formatDuration(ms: number): string {
  const totalSeconds = Math.floor(ms / SECOND_MS);
  const frac = ms % SECOND_MS;
  const days = Math.floor(totalSeconds / 86_400);
  const h = Math.floor((totalSeconds % 86_400) / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  const base = `${pad(h)}:${pad(m)}:${pad(s)}${frac ? `.${String(frac).padStart(3, '0')}` : ''}`;
  return days ? `${days}.${base}` : base;
}

/**
 * What a message may show of a value it echoes: credentials never, and never
 * more than `MAX_ECHO_CHARS` characters. Every error or log line that repeats
 * a URL, a configuration value or an input goes through these.
 */

/** The most characters of one echoed value in a message. */
export const MAX_ECHO_CHARS = 200;

/** What replaces a secret. */
export const REDACTED = '***';

/**
 * Configuration keys whose values are secrets, or whose misspellings likely
 * are (`pasword`, `secretKey`, `authToken`).
 */
const SECRET_KEY = /pass|pwd|secret|token|credential|auth|private/i;

/** Cuts `text` to `max` characters, saying how much was left out. */
export function truncate(text: string, max = MAX_ECHO_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}... (${text.length - max} more characters)`;
}

// Linear on any input: a scheme starts where no scheme character precedes it and is at most 32 long.
const USERINFO = /^([a-z][a-z0-9+.-]{0,31}:\/\/)[^/?#\s]*@/i;
const USERINFO_ANYWHERE = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,31}:\/\/)[^/?#\s'"]*@/gi;
const SECRET_QUERY =
  /([?&](?:pass(?:word)?|pwd|secret|token|access_token|api_?key|sslpassword|sslkey)=)[^&#\s'"]*/gi;

/**
 * A URL without its credentials, written as it was given otherwise:
 * `user:password@` becomes `***@`, and secret query parameters
 * (`?password=`, `?token=`...) become `***`.
 */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, `$1${REDACTED}@`).replace(SECRET_QUERY, `$1${REDACTED}`);
}

/** Text with the credentials of every URL in it redacted (`scheme://user:pass@host` → `scheme://***@host`). */
export function redactText(text: string): string {
  return text.replace(USERINFO_ANYWHERE, `$1${REDACTED}@`).replace(SECRET_QUERY, `$1${REDACTED}`);
}

/** Whether a configuration key names a secret (or looks like a misspelling of one). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A value as a message shows it: JSON, with the values of secret-looking keys
 * replaced by `***`, URL credentials redacted, and cut to `max` characters.
 */
export function echo(value: unknown, max = MAX_ECHO_CHARS): string {
  let text: string;
  try {
    text = JSON.stringify(redactDeep(value, 0)) ?? String(value);
  } catch {
    text = String(value);
  }
  return truncate(redactText(text), max);
}

/** A value with the values of secret-looking keys replaced by `***` and URL credentials redacted. */
export function redactValue(value: unknown): unknown {
  return redactDeep(value, 0);
}

function redactDeep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactUrl(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redactDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value).slice(0, 50)) {
    out[k] = isSecretKey(k) && v !== undefined && v !== null ? REDACTED : redactDeep(v, depth + 1);
  }
  return out;
}

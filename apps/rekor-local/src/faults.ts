import { RekorLocalError, badRequest } from './errors';

/** What the log does to requests while a fault is set. */
export type FaultMode = '429' | '503' | 'slow' | 'offline' | 'frozen' | 'malformed' | 'hang';

/** A fault to inject: one of the modes, for the next `count` requests or until cleared. */
export interface FaultSpec {
  mode: FaultMode;
  /**
   * How many requests it applies to, then it clears itself.
   * @defaultValue unlimited (until cleared)
   */
  count?: number;
  /** `429`: the `Retry-After` header, seconds. @defaultValue 1 */
  retryAfterSeconds?: number;
  /** `slow`: delay before the request is handled, ms. @defaultValue 1000 */
  delayMs?: number;
  /** Only requests of this method meet the fault (and count down). @defaultValue every request */
  method?: 'GET' | 'POST';
}

/** The fault in force, as reported by `GET /admin/faults` and `faults.current()`. */
export interface ActiveFault extends Required<Omit<FaultSpec, 'count' | 'method'>> {
  /** Only requests of this method meet the fault; `null` for every request. */
  method: 'GET' | 'POST' | null;
  /** Requests left, or null for until cleared. */
  remaining: number | null;
}

const MODES: readonly FaultMode[] = ['429', '503', 'slow', 'offline', 'frozen', 'malformed', 'hang'];

/**
 * Holds the fault in force. `offline` without a count takes the listener down
 * (clients see ECONNREFUSED) until cleared; `offline` with a count resets the
 * connections of that many requests (ECONNRESET) while still listening.
 */
export class FaultController {
  private active: ActiveFault | undefined;
  private readonly listeners = new Set<(fault: ActiveFault | undefined) => void>();

  constructor(readonly enabled: boolean) {}

  /** Sets the fault (replacing any other); throws FAULTS_DISABLED when fault injection is off. */
  set(spec: FaultSpec): ActiveFault {
    if (!this.enabled) {
      throw new RekorLocalError(
        'FAULTS_DISABLED',
        'fault injection is off; start with --faults / faults: true',
      );
    }
    this.active = validateFault(spec);
    this.emit();
    return { ...this.active };
  }

  clear(): void {
    if (this.active === undefined) return;
    this.active = undefined;
    this.emit();
  }

  current(): ActiveFault | undefined {
    return this.active && { ...this.active };
  }

  /** Takes the fault for one request of `method`, counting it down. */
  take(method?: string): ActiveFault | undefined {
    const fault = this.active;
    if (!fault) return undefined;
    if (fault.method !== null && fault.method !== method) return undefined;
    if (fault.remaining !== null) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) {
        this.active = undefined;
        this.emit();
      }
    }
    return fault;
  }

  /** Calls `fn` whenever the fault changes. */
  onChange(fn: (fault: ActiveFault | undefined) => void): void {
    this.listeners.add(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn(this.current());
  }
}

const FAULT_FIELDS: readonly string[] = ['mode', 'method', 'count', 'retryAfterSeconds', 'delayMs'];
const DAY_SECONDS = 86_400;

/** Checks a fault as sent to `POST /admin/faults` or `faults.set()`. */
export function validateFault(input: unknown): ActiveFault {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw badRequest('fault: expected an object');
  const f = input as Record<string, unknown>;
  // a misspelled field would otherwise be dropped: `cout: 1` would install a fault without end
  for (const key of Object.keys(f)) {
    if (!FAULT_FIELDS.includes(key)) {
      throw badRequest(`fault.${key}: not a fault field; use ${FAULT_FIELDS.join(', ')}`);
    }
  }
  if (!MODES.includes(f.mode as FaultMode))
    throw badRequest(`fault.mode: expected one of ${MODES.join(', ')}`);
  const whole = (v: unknown, name: string, min: number, max: number, fallback: number | null) => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw badRequest(`fault.${name}: expected a whole number from ${min} to ${max}`);
    }
    return v;
  };
  if (f.method !== undefined && f.method !== 'GET' && f.method !== 'POST') {
    throw badRequest('fault.method: expected GET or POST');
  }
  return {
    mode: f.mode as FaultMode,
    method: (f.method as 'GET' | 'POST' | undefined) ?? null,
    remaining: whole(f.count, 'count', 1, Number.MAX_SAFE_INTEGER, null),
    retryAfterSeconds: whole(f.retryAfterSeconds, 'retryAfterSeconds', 0, DAY_SECONDS, 1)!,
    // a timer holds at most 2^31 - 1 ms; a day is longer than any test needs
    delayMs: whole(f.delayMs, 'delayMs', 0, DAY_SECONDS * 1000, 1000)!,
  };
}

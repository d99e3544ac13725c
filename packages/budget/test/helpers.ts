import { randomUUID } from 'node:crypto';
import { parseConfigObject, type RekorConfig } from '@rekor-budget/core';

/** Budget limits as the configuration loader derives them (defaults: 100/h, 33 per 10 min, 50/day). */
export function limits(budget: Record<string, unknown> = {}): RekorConfig['budget'] {
  return parseConfigObject({ attestor: { rekor: { budget } } }, { source: 'test', env: {} }).budget;
}

/** A fake clock the test moves by hand. */
export function fakeClock(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  const clock = () => t;
  return Object.assign(clock, {
    set: (ms: number) => void (t = ms),
    advance: (ms: number) => void (t += ms),
  });
}

export const tenant = (): string => randomUUID();

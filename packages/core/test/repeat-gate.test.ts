import { createRepeatGate } from '@rekor-budget/core';

describe('createRepeatGate', () => {
  test('passes the first of a kind, then one per window with the count held back', () => {
    let now = 1_000;
    const gate = createRepeatGate(30_000, () => now);
    expect(gate('ECONNREFUSED')).toEqual({ pass: true, heldBack: 0 });
    for (let i = 0; i < 95; i++) {
      now += 100;
      expect(gate('ECONNREFUSED')).toEqual({ pass: false });
    }
    // another kind is not held back by the first
    expect(gate('ETIMEDOUT')).toEqual({ pass: true, heldBack: 0 });
    now = 31_000;
    expect(gate('ECONNREFUSED')).toEqual({ pass: true, heldBack: 95 });
    expect(gate('ECONNREFUSED')).toEqual({ pass: false });
    // a clock that goes back lets the next one through rather than hold it for ever
    now = 0;
    expect(gate('ECONNREFUSED')).toEqual({ pass: true, heldBack: 1 });
  });
});

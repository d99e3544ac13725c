import { parseRetryAfter } from '@rekor-budget/rekor';

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-12-20T10:00:00Z');
  test.each([
    ['120', 120_000],
    ['0', 0],
    [' 7 ', 7_000],
    ['Sat, 20 Dec 2025 10:00:30 GMT', 30_000],
    ['Sat, 20 Dec 2025 09:59:00 GMT', 0],
  ])('%j is %d ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  test.each([undefined, '', 'soon', '-5', '1.5'])('%j is undefined', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });

  test('the first of repeated headers counts', () => {
    expect(parseRetryAfter(['3', '9'], now)).toBe(3_000);
  });
});

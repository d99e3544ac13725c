import { formatDuration, parseDuration } from '@rekor-budget/core';

describe('parseDuration', () => {
  test.each([
    ['00:10:00', 600_000],
    ['00:00:05', 5_000],
    ['01:00:00', 3_600_000],
    ['23:59:59', 86_399_000],
    ['1.00:00:00', 86_400_000],
    ['2.03:04:05', ((2 * 24 + 3) * 3600 + 4 * 60 + 5) * 1000],
    ['00:00:00.250', 250],
    ['0:05:00', 300_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['10 minutes', '600', '00:60:00', '00:00:60', '24:00:00', '1:2:3', '', 'PT10M', '-00:10:00'])(
    '%j is not a duration',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );

  test('formatDuration is the inverse of parseDuration', () => {
    for (const text of ['00:10:00', '00:00:05', '1.02:03:04', '00:00:00.250']) {
      expect(formatDuration(parseDuration(text)!)).toBe(text);
    }
  });
});

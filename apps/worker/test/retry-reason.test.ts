import { retryableReason } from '../src/processor';

/** The log line of a retried attempt says what Rekor did, not "answered" when it did not. */
test.each([
  [{ status: 503, message: 'Service Unavailable' }, 'Rekor answered HTTP 503: Service Unavailable'],
  [
    { code: 'ETIMEDOUT', message: 'no complete answer within 5000 ms' },
    'Rekor did not answer in time: no complete answer within 5000 ms',
  ],
  [
    { code: 'ECONNRESET', message: 'socket hang up' },
    'the connection to Rekor broke before its answer (ECONNRESET): socket hang up',
  ],
  [
    {
      code: 'ECONNREFUSED',
      message: 'Rekor has the entry (409) but fetching it failed: connect ECONNREFUSED',
    },
    'retrying (ECONNREFUSED): Rekor has the entry (409) but fetching it failed: connect ECONNREFUSED',
  ],
])('%j', (outcome, line) => {
  expect(retryableReason(outcome)).toBe(line);
});

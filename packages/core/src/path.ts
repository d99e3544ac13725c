/** A key path as written in messages: `attestor.rekor.budget.burstWindow`, `edges[0].to`. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p),
    '',
  );
}

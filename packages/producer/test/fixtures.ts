import { randomUUID } from 'node:crypto';
import { parseConfigObject, type RekorConfig } from '@rekor-budget/core';

export { edgeInput, graphInput } from '@rekor-budget/testing';

/** A configuration with test-specific overrides of `attestor.rekor`. */
export function testConfig(
  rekor: Record<string, unknown>,
  env: Record<string, string | undefined> = {},
): RekorConfig {
  return parseConfigObject({ attestor: { rekor } }, { source: 'test', env });
}

export const tenant = () => randomUUID();

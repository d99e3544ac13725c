import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';

/** The budget's Lua scripts, by name; each file is `<name>-<numKeys>.lua`. */
export const SCRIPT_NAMES = [
  'consume-1',
  'consume-2',
  'peek-1',
  'peek-2',
  'refund-1',
  'refund-2',
  'touch-1',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

const DIR = join(__dirname, 'scripts');
const INCLUDE = /^--- @include "([a-z-]+)"$/m;

/** The text of a script with its `--- @include "name"` line replaced by `includes/name.lua`. */
export function loadScript(name: ScriptName): string {
  const text = readFileSync(join(DIR, `${name}.lua`), 'utf8');
  return text.replace(INCLUDE, (_, inc: string) => readFileSync(join(DIR, 'includes', `${inc}.lua`), 'utf8'));
}

/** The ioredis command name a script is defined under. */
export function commandName(name: ScriptName): string {
  return `rekorBudget_${name.replace('-', '_')}`;
}

type ScriptCommand = (keys: string[], args: (string | number)[]) => Promise<unknown>;

/**
 * Defines every budget script on the connection (ioredis `defineCommand`:
 * EVALSHA, falling back to EVAL once after a script cache flush). Idempotent.
 */
export function defineScripts(redis: Redis | Cluster): (name: ScriptName) => ScriptCommand {
  const r = redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>;
  for (const name of SCRIPT_NAMES) {
    const cmd = commandName(name);
    if (typeof r[cmd] !== 'function') {
      redis.defineCommand(cmd, { numberOfKeys: Number(name.split('-')[1]), lua: loadScript(name) });
    }
  }
  return (name) => {
    const cmd = commandName(name);
    return (keys, args) => r[cmd]!.call(redis, ...keys, ...args);
  };
}

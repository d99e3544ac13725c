import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { defineLuaScripts, loadLuaScript, type LuaScriptCommand } from '@rekor-budget/core';

/**
 * The budget's Lua scripts, by name: `scripts/<name>.lua`. Each runs over
 * `#KEYS` (one key per window of the tier), so both tiers share one script.
 */
export const SCRIPT_NAMES = ['consume', 'peek', 'refund', 'touch', 'hold', 'release', 'units'] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

const DIR = join(__dirname, 'scripts');

/** The text of a script with its `--- @include "name"` lines replaced by `includes/name.lua`. */
export function loadScript(name: ScriptName): string {
  return loadLuaScript(DIR, name);
}

/**
 * Defines every budget script on the connection (ioredis `defineCommand`:
 * EVALSHA, falling back to EVAL once after a script cache flush). Idempotent.
 * A script's runner passes the key count with the keys.
 */
export function defineScripts(redis: Redis | Cluster): (name: ScriptName) => LuaScriptCommand {
  return defineLuaScripts(redis, { dir: DIR, names: SCRIPT_NAMES, commandPrefix: 'rekorBudget' });
}

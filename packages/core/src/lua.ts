import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RekorBudgetError } from './errors';

/**
 * Lua scripts kept as files, shared by every package that runs scripts on Redis.
 *
 * A package keeps `<dir>/<name>.lua` (the build copies them next to the
 * compiled JavaScript, see `scripts/copy-lua.js`) and shared functions in
 * `<dir>/includes/<include>.lua`. A line `--- @include "<include>"` in a script
 * is replaced by that file; includes may include others, each cycle is refused.
 */

/**
 * Why a Lua script could not be loaded.
 *
 * - `LUA_SCRIPT_UNREADABLE`: a script or include file could not be read (see `cause`).
 * - `LUA_INCLUDE_INVALID`: an include line is malformed, or includes form a cycle.
 */
export type LuaScriptErrorCode = 'LUA_SCRIPT_UNREADABLE' | 'LUA_INCLUDE_INVALID';

/** What defining scripts needs of a connection: ioredis `Redis` and `Cluster` both fit. */
export interface LuaScriptHost {
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
}

/** Runs one defined script: `keys` become `KEYS` (their count is passed along), `args` become `ARGV`. */
export type LuaScriptCommand = (
  keys: readonly string[],
  args: readonly (string | number)[],
) => Promise<unknown>;

export interface LuaScriptsOptions<Name extends string> {
  /** Directory holding `<name>.lua` for each name, and `includes/`. */
  dir: string;
  /** The scripts to define, by file name without `.lua`. */
  names: readonly Name[];
  /** Prefix of the command names on the connection (`<prefix>_<name>`); one per package, e.g. `rekorBudget`. */
  commandPrefix: string;
}

const INCLUDE = /^--- @include "([a-z0-9-]+)"[ \t]*\r?$/gm;
const ANY_INCLUDE = /^[ \t]*---?[ \t]*@include\b.*$/m;

/** The text of `<dir>/<name>.lua` with every `--- @include "x"` line replaced by `<dir>/includes/x.lua`. */
export function loadLuaScript(dir: string, name: string): string {
  const text = expand(dir, read(join(dir, `${name}.lua`), `script ${name}`), `${name}.lua`, []);
  const stray = ANY_INCLUDE.exec(text);
  if (stray) {
    throw new RekorBudgetError<LuaScriptErrorCode>(
      'LUA_INCLUDE_INVALID',
      `${join(dir, `${name}.lua`)}: the line ${JSON.stringify(stray[0].trim())} includes nothing; ` +
        'write it as --- @include "name" (lowercase letters, digits, dashes) for includes/name.lua',
    );
  }
  return text;
}

function expand(dir: string, text: string, file: string, chain: readonly string[]): string {
  return text.replace(INCLUDE, (_line, include: string) => {
    if (chain.includes(include)) {
      throw new RekorBudgetError<LuaScriptErrorCode>(
        'LUA_INCLUDE_INVALID',
        `${file} includes "${include}", which is already being included (${[...chain, include].join(' -> ')}); ` +
          'remove one of the include lines to break the cycle',
      );
    }
    const path = join(dir, 'includes', `${include}.lua`);
    return expand(dir, read(path, `include "${include}" of ${file}`), `includes/${include}.lua`, [
      ...chain,
      include,
    ]);
  });
}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new RekorBudgetError<LuaScriptErrorCode>(
      'LUA_SCRIPT_UNREADABLE',
      `cannot read the Lua ${what} at ${path} (${String(cause)}); ` +
        'if this is a dist/ folder, rebuild the package so its build copies src/**/*.lua there',
      { cause },
    );
  }
}

/**
 * Defines each script on the connection with `defineCommand` (EVALSHA,
 * falling back to EVAL once after a script cache flush), without a fixed key
 * count: every call passes its keys' count, so one script serves any number
 * of keys. Scripts already defined on the connection are kept. Returns the
 * runner of a script by name.
 */
export function defineLuaScripts<Name extends string>(
  host: LuaScriptHost,
  options: LuaScriptsOptions<Name>,
): (name: Name) => LuaScriptCommand {
  const { dir, names, commandPrefix } = options;
  const commands = host as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>;
  const runners = new Map<string, LuaScriptCommand>();
  for (const name of names) {
    const command = `${commandPrefix}_${name.replace(/-/g, '_')}`;
    if (typeof commands[command] !== 'function') {
      host.defineCommand(command, { lua: loadLuaScript(dir, name) });
    }
    const fn = commands[command]!;
    runners.set(name, (keys, args) => fn.call(host, keys.length, ...keys, ...args));
  }
  return (name) => {
    const run = runners.get(name);
    if (!run) throw new RangeError(`no Lua script ${JSON.stringify(name)}; defined: ${names.join(', ')}`);
    return run;
  };
}

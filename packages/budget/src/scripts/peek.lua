--[[
  Reports a tenant's budget without consuming or changing anything.
  Runs over #KEYS: one key per window of the tier, the caller passes the count.

  Input:
  KEYS[i] window i of the tenant (sorted set: unit id -> time spent, ms)
    Tier 1 (graph): KEYS[1] hour window, KEYS[2] burst window
    Tier 2 (edge):  KEYS[1] day window

  ARGV[1] now (ms, the caller's clock)
  ARGV[2] unused (kept so consume and peek share the ARGV layout)
  ARGV[1 + 2i] length (ms) of window i    ARGV[2 + 2i] cap of window i
    Tier 1: ARGV[3] hour length  ARGV[4] hour cap  ARGV[5] burst length  ARGV[6] burst cap
    Tier 2: ARGV[3] day length   ARGV[4] day cap

  Output: { admissible (1|0), used_1, freeAt_1, ... } as consume.lua,
    without the unit.
]]
--- @include "windows"
return checkWindows(tonumber(ARGV[1]), ARGV[2], 3, false)

--[[
  Reports a tenant's budget without consuming or changing anything.
  Tier 1 (graph): the hour and the burst windows.

  Input:
  KEYS[1] hour window of the tenant (sorted set: unit id -> time spent, ms)
  KEYS[2] burst window of the tenant

  ARGV[1] now (ms, the caller's clock)
  ARGV[2] unused (kept so every script shares the ARGV layout)
  ARGV[3] hour window length (ms)     ARGV[4] hour cap
  ARGV[5] burst window length (ms)    ARGV[6] burst cap

  Output: { admissible (1|0), used_1, freeAt_1, ... } as consume-2.lua,
    without the unit.
]]
--- @include "windows"
return checkWindows(tonumber(ARGV[1]), ARGV[2], 3, false)

--[[
  Reports a tenant's budget without consuming or changing anything.
  Tier 2 (edge): the day window.

  Input:
  KEYS[1] day window of the tenant (sorted set: unit id -> time spent, ms)

  ARGV[1] now (ms, the caller's clock)
  ARGV[2] unused (kept so every script shares the ARGV layout)
  ARGV[3] day window length (ms)      ARGV[4] day cap

  Output: { admissible (1|0), used_1, freeAt_1, ... } as consume-1.lua,
    without the unit.
]]
--- @include "windows"
return checkWindows(tonumber(ARGV[1]), ARGV[2], 3, false)

--[[
  Checks and consumes one budget unit atomically.
  Tier 2 (edge): the day window.
  Trims units that left each window, admits only when every window has room,
  then records the unit in every window and expires each key when its newest
  unit leaves.

  Input:
  KEYS[1] day window of the tenant (sorted set: unit id -> time spent, ms)

  ARGV[1] now (ms, the caller's clock)
  ARGV[2] unit id (unique)
  ARGV[3] day window length (ms)      ARGV[4] day cap

  Output: { admitted (1|0), used_1, freeAt_1, ... } per window in KEYS order;
    used_i counts units in window i (with the new unit when admitted);
    freeAt_i is 0 when window i has room, else the instant (ms) its oldest
    binding unit leaves.
]]
--- @include "windows"
return checkWindows(tonumber(ARGV[1]), ARGV[2], 3, true)

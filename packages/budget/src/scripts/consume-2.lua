--[[
  Checks and consumes one budget unit atomically.
  Tier 1 (graph): the hour and the burst windows.
  Trims units that left each window, admits only when every window has room,
  then records the unit in every window and expires each key when its newest
  unit leaves.

  Input:
  KEYS[1] hour window of the tenant (sorted set: unit id -> time spent, ms)
  KEYS[2] burst window of the tenant

  ARGV[1] now (ms, the caller's clock)
  ARGV[2] unit id (unique)
  ARGV[3] hour window length (ms)     ARGV[4] hour cap
  ARGV[5] burst window length (ms)    ARGV[6] burst cap

  Output: { admitted (1|0), used_1, freeAt_1, ... } per window in KEYS order;
    used_i counts units in window i (with the new unit when admitted);
    freeAt_i is 0 when window i has room, else the instant (ms) its oldest
    binding unit leaves.
]]
--- @include "windows"
return checkWindows(tonumber(ARGV[1]), ARGV[2], 3, true)

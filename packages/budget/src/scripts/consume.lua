--[[
  Checks and consumes one budget unit atomically, in every window of a tier.
  Trims units that left each window, admits only when every window has room,
  then records the unit in every window and expires each key when its newest
  unit leaves. Runs over #KEYS: one key per window, the caller passes the count.

  Input:
  KEYS[i] window i of the tenant (sorted set: unit id -> time spent, ms)
    Tier 1 (graph): KEYS[1] hour window, KEYS[2] burst window
    Tier 2 (edge):  KEYS[1] day window

  ARGV[1] now (ms, the caller's clock)
  ARGV[2] unit id (unique)
  ARGV[1 + 2i] length (ms) of window i    ARGV[2 + 2i] cap of window i
    Tier 1: ARGV[3] hour length  ARGV[4] hour cap  ARGV[5] burst length  ARGV[6] burst cap
    Tier 2: ARGV[3] day length   ARGV[4] day cap

  Output: { admitted (1|0), used_1, freeAt_1, ... } per window in KEYS order;
    used_i counts units in window i (with the new unit when admitted);
    freeAt_i is 0 when window i has room, else the instant (ms) its oldest
    binding unit leaves.
    Error reply DUPLICATE_UNIT <unit id> when KEYS[1] already holds the unit id.
]]
--- @include "windows"
return checkWindows(tonumber(ARGV[1]), ARGV[2], 3, true)

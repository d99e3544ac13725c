--[[
  Gives back one consumed unit: removes it from every window of the tier.
  Tier 1 (graph): the hour and the burst windows.

  Input:
  KEYS[1] hour window of the tenant (sorted set: unit id -> time spent, ms)
  KEYS[2] burst window of the tenant

  ARGV[1] unit id, as consume-2.lua admitted it

  Output: the number of windows the unit was removed from (0 when it was
    unknown or had already left every window).
]]
local removed = 0
for i = 1, #KEYS do
  removed = removed + redis.call('ZREM', KEYS[i], ARGV[1])
end
return removed

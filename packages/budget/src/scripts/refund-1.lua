--[[
  Gives back one consumed unit: removes it from every window of the tier.
  Tier 2 (edge): the day window.

  Input:
  KEYS[1] day window of the tenant (sorted set: unit id -> time spent, ms)

  ARGV[1] unit id, as consume-1.lua admitted it

  Output: the number of windows the unit was removed from (0 when it was
    unknown or had already left every window).
]]
local removed = 0
for i = 1, #KEYS do
  removed = removed + redis.call('ZREM', KEYS[i], ARGV[1])
end
return removed

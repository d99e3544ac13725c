--[[
  Gives back one consumed unit: removes it from every window of the tier.
  Tier 2 (edge): the day window.

  Input:
  KEYS[1] day window of the tenant (sorted set: unit id -> time spent, ms)

  ARGV[1] unit id, as consume-1.lua admitted it
  ARGV[2] now (ms, the caller's clock)
  ARGV[3] day window length (ms)

  Output: the number of windows that still counted the unit (0 when it was
    unknown or had already left every window). The unit is removed from all.
]]
local now = tonumber(ARGV[2])
local counted = 0
for i = 1, #KEYS do
  local score = redis.call('ZSCORE', KEYS[i], ARGV[1])
  if score and tonumber(score) > now - tonumber(ARGV[2 + i]) then
    counted = counted + 1
  end
  redis.call('ZREM', KEYS[i], ARGV[1])
end
return counted

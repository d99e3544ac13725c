--[[
  Gives back one consumed unit: removes it from every window of the tier.
  Runs over #KEYS: one key per window of the tier, the caller passes the count.

  Input:
  KEYS[i] window i of the tenant (sorted set: unit id -> time spent, ms)
    Tier 1 (graph): KEYS[1] hour window, KEYS[2] burst window
    Tier 2 (edge):  KEYS[1] day window

  ARGV[1] unit id, as consume.lua admitted it
  ARGV[2] now (ms, the caller's clock)
  ARGV[2 + i] length (ms) of window i
    Tier 1: ARGV[3] hour length  ARGV[4] burst length
    Tier 2: ARGV[3] day length

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

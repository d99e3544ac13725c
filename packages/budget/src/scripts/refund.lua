--[[
  Gives back one consumed unit of a tier.

  Input:
  KEYS[1] the tenant's units of the tier (sorted set: small int -> ms spent)

  ARGV[1] now (ms), or '' for Redis TIME
  ARGV[2] the unit's member, as consume.lua returned it
  ARGV[3] the instant (ms) the unit was spent, as consume.lua returned it
  ARGV[4] the longest window of the tier (ms)

  Output: 1 when the unit still counted (it is removed), 0 when it was unknown,
    a later unit under the same member, or had left every window.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[1] ~= '' then now = tonumber(ARGV[1]) end
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not score or tonumber(score) ~= tonumber(ARGV[3]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[2])
if tonumber(score) > now - tonumber(ARGV[4]) then return 1 end
return 0

--[[
  The units a tenant's tier still counts, oldest first, for estimates.

  Input:
  KEYS[1] the tenant's units of the tier (sorted set: small int -> ms spent)
  KEYS[2] the tenant's holds of the tier (sorted set: job id -> expiry ms)

  ARGV[1] now (ms), or '' for Redis TIME
  ARGV[2] the longest window of the tier (ms)

  Output: { now, live holds, spent_1, spent_2, ... } (ms, ascending)
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[1] ~= '' then now = tonumber(ARGV[1]) end
local holds = redis.call('ZCOUNT', KEYS[2], '(' .. string.format('%d', now), '+inf')
local r = redis.call('ZRANGE', KEYS[1], '(' .. string.format('%d', now - tonumber(ARGV[2])), '+inf', 'BYSCORE', 'WITHSCORES')
local out = { now, holds }
for i = 2, #r, 2 do out[#out + 1] = tonumber(r[i]) end
return out

--[[
  Marks a tenant active: the sorted set of tenants by last decision time.
  Drops tenants idle for longer than the retention, and expires the whole set
  once nobody has been active for that long.

  Input:
  KEYS[1] active tenants (sorted set: tenant id -> last decision, ms)

  ARGV[1] now (ms), or '' for Redis TIME
  ARGV[2] tenant id
  ARGV[3] retention (ms)

  Output: the number of tenants in the set.
]]
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local retention = tonumber(ARGV[3])
-- GT: a caller with a clock behind never moves a tenant back; new tenants are added.
redis.call('ZADD', KEYS[1], 'GT', string.format('%d', now), ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - retention))
redis.call('PEXPIRE', KEYS[1], retention)
return redis.call('ZCARD', KEYS[1])

--[[
  Marks a tenant active: the sorted set of tenants by last decision time.
  When the set grows (a tenant new to it), drops tenants idle for longer than
  the retention, so it stays bounded by the tenants active within it; the
  whole set expires once nobody has been active for that long.

  Input:
  KEYS[1] active tenants (sorted set: tenant id -> last decision, ms)

  ARGV[1] now (ms), or '' for Redis TIME
  ARGV[2] tenant id
  ARGV[3] retention (ms)

  Output: 1 when the tenant was new to the set, else 0.
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
local added = redis.call('ZADD', KEYS[1], 'GT', string.format('%d', now), ARGV[2])
if added > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - retention))
end
redis.call('PEXPIRE', KEYS[1], retention)
return added

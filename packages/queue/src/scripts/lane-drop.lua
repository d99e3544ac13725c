--[[
  Drops a lane the scheduler found empty, unless it was marked since the
  scheduler read its version (a job parked meanwhile keeps the lane).

  Input:
  KEYS[1] lanes of the tier (sorted set: tenant id -> next release check, ms)
  KEYS[2] tallies of the tier (hash: q:<tenant>, p:<tenant>, v:<tenant>)

  ARGV[1] tenant id (lower case)
  ARGV[2] the lane's version as read before the lane was found empty ('' if none)

  Output: 1 when dropped, 0 when kept.
]]
local v = redis.call('HGET', KEYS[2], 'v:' .. ARGV[1])
if (v or '') ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], 'v:' .. ARGV[1], 'p:' .. ARGV[1])
return 1

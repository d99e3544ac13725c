--[[
  Brings a tenant's lane forward (a unit was given back): the lane is due at
  ARGV[2] if that is earlier than it was, and the scheduler is signalled, as
  it may be idle until the lane's old time.

  Input:
  KEYS[1] lanes of the tier (sorted set: tenant id -> next release check, ms)
  KEYS[2] tallies of the tier (unused)
  KEYS[3] the scheduler's signal (list of at most one item)

  ARGV[1] tenant id (lower case)
  ARGV[2] when the lane is due now (ms)

  Output: 1 when the lane moved forward, 0 when it was absent or due already.
]]
if redis.call('ZADD', KEYS[1], 'XX', 'LT', 'CH', ARGV[2], ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[3], '1')
redis.call('LTRIM', KEYS[3], 0, 0)
return 1

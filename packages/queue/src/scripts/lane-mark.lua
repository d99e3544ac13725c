--[[
  Marks a tenant's lane of a tier as holding parked work: adds the lane if
  absent (due at ARGV[2]), counts the parked jobs and bumps the lane's version
  so a scheduler that found the lane empty before this mark keeps it. A new
  lane signals the scheduler, which may be idle until its next known lane.

  Input:
  KEYS[1] lanes of the tier (sorted set: tenant id -> next release check, ms)
  KEYS[2] tallies of the tier (hash: q:<tenant>, p:<tenant>, v:<tenant>)
  KEYS[3] the scheduler's signal (list of at most one item)

  ARGV[1] tenant id (lower case)
  ARGV[2] when the lane is due, if it is new (ms)
  ARGV[3] jobs parked by this call

  Output: the lane's parked tally.
]]
if redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[3], '1')
  redis.call('LTRIM', KEYS[3], 0, 0)
end
redis.call('HINCRBY', KEYS[2], 'v:' .. ARGV[1], 1)
return redis.call('HINCRBY', KEYS[2], 'p:' .. ARGV[1], tonumber(ARGV[3]))

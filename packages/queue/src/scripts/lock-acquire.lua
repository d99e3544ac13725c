--[[
  Takes the per-content lock: one job run at a time may submit a content
  digest. A lock already held by the same owner is kept (and extended).

  Input:
  KEYS[1] the content's lock (string: the holding owner)

  ARGV[1] owner (job id and worker lock token)
  ARGV[2] lock lifetime (ms): released on expiry if the holder never releases

  Output: 1 when the owner holds the lock after the call, else 0.
]]
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0

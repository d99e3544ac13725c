--[[
  Takes the per-content lock: one job at a time may submit a content digest.
  A lock already held by the same job id is taken again (that job's earlier
  run died on another worker; BullMQ hands a job to one worker at a time).

  Input:
  KEYS[1] the content's lock (string: the holding job id)

  ARGV[1] job id
  ARGV[2] lock lifetime (ms): released on expiry if the holder never releases

  Output: 1 when the job holds the lock after the call, else 0.
]]
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0

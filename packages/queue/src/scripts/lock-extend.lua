--[[
  Confirms the per-content lock is still held by this job run, and extends
  it: checked right before a POST, so a run whose lock expired (a worker
  frozen past its lifetime) does not send.

  Input:
  KEYS[1] the content's lock (string: the holding owner)

  ARGV[1] owner (job id and worker lock token)
  ARGV[2] new lifetime (ms)

  Output: 1 when the owner holds the lock (now extended), else 0.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0

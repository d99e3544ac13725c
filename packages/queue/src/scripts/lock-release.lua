--[[
  Releases the per-content lock, only if the job still holds it (an expired
  lock another job took since is left alone).

  Input:
  KEYS[1] the content's lock (string: the holding job id)

  ARGV[1] job id

  Output: 1 when the lock was released, else 0.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0

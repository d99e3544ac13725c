--[[
  Releases the per-content lock, only if the owner still holds it (an
  expired lock another run took since is left alone).

  Input:
  KEYS[1] the content's lock (string: the holding owner)

  ARGV[1] owner (job id and worker lock token)

  Output: 1 when the lock was released, else 0.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0

--[[
  The producer's one read before it queues a batch of one tier: the tallies
  of the batch's tenants and the state of each job of the batch.

  Input:
  KEYS[1]      tallies of the tier (hash: q:<tenant>, p:<tenant>, v:<tenant>)
  KEYS[2..n]   the jobs' hashes in the tier queue (one hash tag with KEYS[1] in a cluster)

  ARGV[i]      tenant id (lower case)

  Output: { tallies, states }
  tallies[2i - 1], tallies[2i]   queued, parked of ARGV[i]
  states[j]                      job KEYS[j + 1]: 0 none, 1 waiting, delayed or running, 2 finished
]]
local tallies = {}
for i = 1, #ARGV do
  local v = redis.call('HMGET', KEYS[1], 'q:' .. ARGV[i], 'p:' .. ARGV[i])
  tallies[2 * i - 1] = math.max(0, tonumber(v[1]) or 0)
  tallies[2 * i] = math.max(0, tonumber(v[2]) or 0)
end
local states = {}
for j = 2, #KEYS do
  local v = redis.call('HMGET', KEYS[j], 'timestamp', 'finishedOn')
  if not v[1] then
    states[j - 1] = 0
  elseif not v[2] then
    states[j - 1] = 1
  else
    states[j - 1] = 2
  end
end
return { tallies, states }

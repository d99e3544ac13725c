--[[
  Adds to per-tenant tallies of a tier; a tally that reaches 0 or less is
  removed, so the hash holds only tenants with work.

  Input:
  KEYS[1] tallies of the tier (hash: q:<tenant>, p:<tenant>, v:<tenant>)

  ARGV[2i - 1] field (q:<tenant> or p:<tenant>)    ARGV[2i] delta

  Output: the number of fields updated.
]]
for i = 1, #ARGV, 2 do
  local n = redis.call('HINCRBY', KEYS[1], ARGV[i], tonumber(ARGV[i + 1]))
  if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return #ARGV / 2

--[[
  Lets go of the unit held for a job that will not spend it.

  Input:
  KEYS[1] the tenant's units of the tier (unused)
  KEYS[2] the tenant's holds of the tier (sorted set: job id -> expiry ms)

  ARGV[1] now (ms), or '' for Redis TIME
  ARGV[2] job id

  Output: 1 when the job held a live unit (now free), 0 when it held none or
    its hold had expired already (removed all the same).
]]
--- @include "windows"
local now = clockNow(ARGV[1])
local expiry = redis.call('ZSCORE', KEYS[2], ARGV[2])
if not expiry then return 0 end
redis.call('ZREM', KEYS[2], ARGV[2])
if tonumber(expiry) > now then return 1 end
return 0

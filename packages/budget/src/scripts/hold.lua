--[[
  Promises units to released jobs: holds as many of the given job ids, in
  order, as units fit now in every window (besides the live holds). A job id
  already held keeps its hold (a replayed release is idempotent).

  Input:
  KEYS[1] the tenant's units of the tier (sorted set: small int -> ms spent)
  KEYS[2] the tenant's holds of the tier (sorted set: job id -> expiry ms)

  ARGV[1] now (ms), or '' for Redis TIME
  ARGV[2] unused
  ARGV[3] how long a hold lives (ms) if its job never runs
  ARGV[4] n windows; ARGV[5 + 2(i-1)] length (ms), ARGV[6 + 2(i-1)] cap of window i
  ARGV[5 + 2n ...] job ids, in release order

  Output: { now, held: the first `held` job ids are held, free units left }
]]
--- @include "windows"
local now = clockNow(ARGV[1])
local ws = readWindows()
local ttl = tonumber(ARGV[3])
local holds = liveHolds(KEYS[2], now, true)
local free = freeUnits(ws, KEYS[1], now, holds)
local held = 0
local expiry = string.format('%d', now + ttl)
-- ids this call holds: an id given twice holds one unit
local added = {}
for i = 5 + 2 * #ws, #ARGV do
  if added[ARGV[i]] then
    -- held by this call already
  elseif holds > 0 and redis.call('ZSCORE', KEYS[2], ARGV[i]) then
    -- among the live holds (with none, the expired ones just dropped, no look is needed)
    redis.call('ZADD', KEYS[2], expiry, ARGV[i])
  elseif free > 0 then
    redis.call('ZADD', KEYS[2], expiry, ARGV[i])
    added[ARGV[i]] = true
    free = free - 1
  else
    break
  end
  held = held + 1
end
if held > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return { now, held, free }

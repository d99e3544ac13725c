--[[
  Checks and consumes one budget unit of a tier atomically, in every window
  of the tier. A live hold of another job counts as used; the holder's own
  hold is spent (or dropped, when refused).

  Input:
  KEYS[1] the tenant's units of the tier (sorted set: small int -> ms spent)
  KEYS[2] the tenant's holds of the tier (sorted set: job id -> expiry ms)

  ARGV[1] now (ms), or '' for Redis TIME
  ARGV[2] job id of the caller ('' for none): its hold, if live, is its unit
  ARGV[3] unused
  ARGV[4] n windows; ARGV[5 + 2(i-1)] length (ms), ARGV[6 + 2(i-1)] cap of window i
    Tier 1: hour, burst    Tier 2: day

  Output: { admitted (1|0), now, member (-1 when refused), used_1, freeAt_1, ... }
    per window; used_i counts units in window i (with the new unit when
    admitted); freeAt_i is 0 when window i has room, else the instant (ms)
    one more unit fits.
]]
--- @include "windows"
local now = clockNow(ARGV[1])
local ws, longest, widest = readWindows()
local holder = ARGV[2]
-- counted, not trimmed: hold.lua drops expired holds, and the set expires with its last hold
local holds = liveHolds(KEYS[2], now, false)
local held = holds > 0 and holder ~= '' and redis.call('ZSCORE', KEYS[2], holder)
-- the caller's own hold counts for it only while live (an expired one is not in `holds`)
local mine = held and tonumber(held) > now
local extra = holds
if mine then extra = holds - 1 end
local out = checkAll(ws, KEYS[1], now, extra, KEYS[2], mine and holder or nil)
local member = -1
if held then redis.call('ZREM', KEYS[2], holder) end
if out[1] == 1 then
  member = spend(KEYS[1], now, longest, widest)
  for i = 1, #ws do out[2 * i] = out[2 * i] + 1 end
end
local reply = { out[1], now, member }
for i = 2, #out do reply[#reply + 1] = out[i] end
return reply

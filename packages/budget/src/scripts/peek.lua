--[[
  Reports a tenant's budget of a tier without changing anything.

  Input:
  KEYS[1] the tenant's units of the tier (sorted set: small int -> ms spent)
  KEYS[2] the tenant's holds of the tier (sorted set: job id -> expiry ms)

  ARGV[1] now (ms), or '' for Redis TIME
  ARGV[2], ARGV[3] unused
  ARGV[4] n windows; ARGV[5 + 2(i-1)] length (ms), ARGV[6 + 2(i-1)] cap of window i

  Output: { admissible (1|0), now, live holds, free units, used_1, freeAt_1, ... }
    as consume.lua, with every live hold counted as used; `free` is how many
    units fit now in every window besides the holds.
]]
--- @include "windows"
local now = clockNow(ARGV[1])
local ws = readWindows()
local holds = liveHolds(KEYS[2], now, false)
local out = checkAll(ws, KEYS[1], now, holds, KEYS[2], nil)
local reply = { out[1], now, holds, freeUnits(ws, KEYS[1], now, holds) }
for i = 2, #out do reply[#reply + 1] = out[i] end
return reply

--[[
  Shared functions of the budget scripts.

  KEYS[1] is the tenant's units of one tier: a sorted set of small integer
  members (kept short so Redis stores the set as a compact listpack) scored by
  the time (ms) the unit was spent. A unit spent at t counts in a window of
  length w until t + w (exclusive). Every window of the tier reads this one
  set: Tier 1 has hour and burst, Tier 2 has day.

  KEYS[2] is the tenant's holds of the tier: units promised to jobs the
  scheduler released (job id -> expiry, ms). A live hold counts as used for
  everyone but its holder, so a released job is admitted when it runs.

  Common ARGV layout:
  ARGV[1] now (ms), or '' to read the Redis server's clock (TIME)
  ARGV[2] per script (unit id, holder job id, or unused)
  ARGV[3] per script (hold lifetime ms, or unused)
  ARGV[4] n, the number of windows of the tier
  ARGV[5 + 2(i-1)] length (ms) of window i    ARGV[6 + 2(i-1)] cap of window i
  ARGV[5 + 2n ...] per script
]]

-- The decision's instant: the caller's (tests inject a clock) or Redis TIME.
local function clockNow(arg)
  if arg ~= nil and arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The windows of the tier, from ARGV[4..].
local function readWindows()
  local n = tonumber(ARGV[4])
  local ws = {}
  local longest = 0
  local widest = 0
  for i = 1, n do
    local w = { ms = tonumber(ARGV[5 + 2 * (i - 1)]), limit = tonumber(ARGV[6 + 2 * (i - 1)]) }
    ws[i] = w
    if w.ms > longest then longest = w.ms end
    if w.limit > widest then widest = w.limit end
  end
  return ws, longest, widest
end

-- Units of window w at `now` and the instant (ms) one more unit fits when
-- `extra` units (live holds of others, in `holdsKey` but for `holder`'s own)
-- count as used too; 0 when it fits now. Units stamped in the future (an
-- injected clock moved back) count too.
local function windowState(key, now, w, extra, holdsKey, holder)
  local since = '(' .. string.format('%d', now - w.ms)
  local used = redis.call('ZCOUNT', key, since, '+inf')
  local freeAt = 0
  local over = used + extra - w.limit
  if over >= 0 then
    if over < used then
      -- over + 1 must leave: a unit leaves the window w.ms after it was spent, a
      -- hold when it expires (a hold whose job never runs, say its process died,
      -- must not keep the tenant waiting for a unit to leave a day window)
      -- (units alone suffice, over < used: the loop always has a unit left)
      local need = over + 1
      local units = redis.call('ZRANGE', key, since, '+inf', 'BYSCORE', 'LIMIT', 0, need, 'WITHSCORES')
      local holds = {}
      if extra > 0 then
        holds = redis.call('ZRANGE', holdsKey, '(' .. string.format('%d', now), '+inf', 'BYSCORE',
          'LIMIT', 0, need + 1, 'WITHSCORES')
      end
      local ui, hi = 1, 1
      for _ = 1, need do
        if holder ~= nil and holds[2 * hi - 1] == holder then hi = hi + 1 end
        local u = units[2 * ui] and tonumber(units[2 * ui]) + w.ms
        local h = holds[2 * hi] and tonumber(holds[2 * hi])
        if u and (not h or u <= h) then
          freeAt = u
          ui = ui + 1
        else
          freeAt = h
          hi = hi + 1
        end
      end
    else
      -- holds alone fill the window: they settle when their jobs run, or expire
      freeAt = now + 1000
    end
  end
  return used, freeAt
end

-- Live holds at `now`; drops expired ones when `trim`.
local function liveHolds(key, now, trim)
  if trim then
    local n = redis.call('ZCARD', key)
    if n == 0 then return 0 end
    redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%d', now))
    return redis.call('ZCARD', key)
  end
  return redis.call('ZCOUNT', key, '(' .. string.format('%d', now), '+inf')
end

-- Checks every window: { fits (1|0), used_1, freeAt_1, ... } with `extra`
-- live holds counted (those in `holdsKey` but `holder`'s).
local function checkAll(ws, key, now, extra, holdsKey, holder)
  local out = { 1 }
  for i, w in ipairs(ws) do
    local used, freeAt = windowState(key, now, w, extra, holdsKey, holder)
    if freeAt > 0 then out[1] = 0 end
    out[2 * i] = used
    out[2 * i + 1] = freeAt
  end
  return out
end

-- Units that fit now in every window, with `extra` counted as used.
local function freeUnits(ws, key, now, extra)
  local free = nil
  for _, w in ipairs(ws) do
    local used = redis.call('ZCOUNT', key, '(' .. string.format('%d', now - w.ms), '+inf')
    local f = w.limit - used - extra
    if free == nil or f < free then free = f end
  end
  if free == nil or free < 0 then free = 0 end
  return free
end

-- Records one unit at `now` under a small integer member that no live unit
-- uses, expires the set when its newest unit leaves; returns the member.
local function spend(key, now, longest, widest)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%d', now - longest))
  local modulus = 4096
  if widest >= 2048 then modulus = 2147483647 end
  local member = now % modulus
  while redis.call('ZSCORE', key, member) do member = (member + 1) % modulus end
  redis.call('ZADD', key, string.format('%d', now), member)
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  local ttl = tonumber(newest[2]) + longest - now
  if ttl < longest then ttl = longest end
  redis.call('PEXPIRE', key, ttl)
  return member
end

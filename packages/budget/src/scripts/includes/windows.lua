--[[
  Shared functions of the budget scripts: each of KEYS is one rolling window,
  a sorted set of unit ids scored by the time (ms) the unit was spent.
  A unit spent at t counts in the window until t + windowMs (exclusive).

  Window i reads its length and cap from ARGV[first + 2(i-1)] and
  ARGV[first + 2(i-1) + 1].
]]

-- Units of window `key` still in the window at `now`, and the instant (ms)
-- at which enough of them leave for one more unit to fit (0 when it fits now).
-- Units stamped in the future (a caller's clock behind another's) count too.
local function windowState(key, now, windowMs, limit, trim)
  local since = string.format('%d', now - windowMs)
  local used
  if trim then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', since)
    used = redis.call('ZCARD', key)
  else
    used = redis.call('ZCOUNT', key, '(' .. since, '+inf')
  end
  local freeAt = 0
  if used >= limit then
    -- The (used - limit + 1)-th oldest unit in the window must leave.
    local lowest = redis.call('ZRANGE', key, '(' .. since, '+inf', 'BYSCORE', 'LIMIT', used - limit, 1, 'WITHSCORES')
    freeAt = tonumber(lowest[2]) + windowMs
  end
  return used, freeAt
end

-- Checks every window at `now`; consumes `unitId` in all of them when all admit.
-- Returns { admitted (1|0), used_1, freeAt_1, used_2, freeAt_2, ... } where
-- used_i counts the new unit when admitted.
local function checkWindows(now, unitId, first, consume)
  local out = { 0 }
  local admitted = 1
  for i = 1, #KEYS do
    local windowMs = tonumber(ARGV[first + 2 * (i - 1)])
    local limit = tonumber(ARGV[first + 2 * (i - 1) + 1])
    local used, freeAt = windowState(KEYS[i], now, windowMs, limit, consume)
    if freeAt > 0 then admitted = 0 end
    out[2 * i] = used
    out[2 * i + 1] = freeAt
  end
  if consume and admitted == 1 then
    if redis.call('ZSCORE', KEYS[1], unitId) then
      return redis.error_reply('DUPLICATE_UNIT ' .. unitId)
    end
    local score = string.format('%d', now)
    for i = 1, #KEYS do
      local windowMs = tonumber(ARGV[first + 2 * (i - 1)])
      redis.call('ZADD', KEYS[i], score, unitId)
      -- The newest unit leaves at max(score) + windowMs: expire the key then.
      local newest = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
      local ttl = tonumber(newest[2]) + windowMs - now
      if ttl < windowMs then ttl = windowMs end
      redis.call('PEXPIRE', KEYS[i], ttl)
      out[2 * i] = out[2 * i] + 1
    end
  end
  out[1] = admitted
  return out
end

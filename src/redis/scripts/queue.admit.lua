-- Guarantees: one atomic admission run of one room, safe from any number of instances: expires due ACTIVE and idle WAITING tokens, then fills free slots strictly from the head of the line, never above max active, never while paused or on stale sold-out flags, never faster than the room's rate (its allowance lives in the room's slot and is spent here only).
-- ARGV: 4 max active, 5 active lifetime ms, 6 sweep delay ms, 7 batch size, 8 admission-rate window ms, 9 paused ('1' or '0'), 10 admissions per minute ('' none), 11 freed count seen before the sold-out flags ('' none)
local max_active, active_ms = tonumber(ARGV[4]), tonumber(ARGV[5])
local sweep_delay_ms, batch = tonumber(ARGV[6]), tonumber(ARGV[7])
local rate_window_ms = tonumber(ARGV[8])
local paused, per_minute = ARGV[9] == '1', tonumber(ARGV[10])
local now = clock_ms()
local expired = 0

-- Admissions older than the rate window are no longer counted.
redis.call('ZREMRANGEBYSCORE', K_ADMISSIONS, '-inf', string.format('(%d', now - rate_window_ms))

-- ACTIVE tokens are swept sweep_delay_ms after expiresAt (reads say EXPIRED at expiresAt), so a
-- hold that committed in PostgreSQL just before can still extend its token (see hold-taken).
local due = redis.call('ZRANGEBYSCORE', K_ACTIVE, '-inf', now - sweep_delay_ms, 'LIMIT', 0, batch)
for _, token in ipairs(due) do
  retire(token, load(token), now)
  expired = expired + 1
end
local idle = redis.call('ZRANGEBYSCORE', K_IDLE, '-inf', now - IDLE_MS, 'LIMIT', 0, batch)
for _, token in ipairs(idle) do
  retire(token, load(token), now)
  expired = expired + 1
end
local purged = redis.call('ZRANGEBYSCORE', K_EXPIRED, '-inf', now - RETENTION_MS, 'LIMIT', 0, batch)
for _, token in ipairs(purged) do
  redis.call('HDEL', K_TOKENS, token)
  redis.call('ZREM', K_EXPIRED, token)
end

local admitted = 0
local free = max_active - redis.call('ZCARD', K_ACTIVE)
if paused or not flags_fresh(ARGV[11]) then
  free = 0
end
-- The rate limit: a token bucket refilled at per_minute / 60 per second, holding at most one
-- second's worth (at least 1), so no burst outruns the rate across instances.
local allowance
if per_minute then
  local bucket = redis.call('HMGET', K_ALLOWANCE, 'a', 'at')
  local cap = math.max(1, per_minute / 60)
  local last_a, last_at = tonumber(bucket[1]), tonumber(bucket[2])
  if last_a == nil or last_at == nil then
    allowance = cap
  else
    allowance = math.min(cap, last_a + math.max(0, now - last_at) * per_minute / 60000)
  end
  free = math.min(free, math.floor(allowance))
end
while free > 0 do
  local head = redis.call('ZRANGE', K_WAITING, 0, free - 1)
  if #head == 0 then
    break
  end
  for _, token in ipairs(head) do
    local state = load(token)
    if state and is_live(state, now) then
      activate(token, state, now, active_ms)
      admitted = admitted + 1
      free = free - 1
    else
      retire(token, state, now)
      expired = expired + 1
    end
  end
end
if per_minute then
  redis.call('HSET', K_ALLOWANCE, 'a', tostring(allowance - admitted), 'at', now)
end
return {
  expired,
  admitted,
  redis.call('ZCARD', K_ACTIVE),
  redis.call('ZCARD', K_WAITING),
  redis.call('ZCARD', K_PENDING),
  now,
}

-- Guarantees: one atomic admission run, safe from any number of instances: expires due ACTIVE and idle WAITING tokens, then fills free slots strictly from the head of the line, never above max active.
-- ARGV: 4 max active, 5 active lifetime ms, 6 sweep delay ms, 7 batch size, 8 admission-rate window ms
local max_active, active_ms = tonumber(ARGV[4]), tonumber(ARGV[5])
local sweep_delay_ms, batch = tonumber(ARGV[6]), tonumber(ARGV[7])
local rate_window_ms = tonumber(ARGV[8])
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
return { expired, admitted, redis.call('ZCARD', K_ACTIVE), redis.call('ZCARD', K_WAITING) }

-- Guarantees: log entries take their places in the order given (a partition's log order), each at most once: only a pending join of the same user is placed; a repeat, an unknown (rolled back or purged) or an already EXPIRED token changes nothing. A placed token joins the back of the line, ACTIVE at once only when nobody waits and a slot is free (the Redis backend's join rule). Publishes the views of the placed tokens.
-- KEYS: the queue's (prelude), then 13 unlogged
-- ARGV: 4 max active, 5 active lifetime ms, 6 applied channel, 7 freed count seen (as queue.join), 8.. token, user id pairs
-- Reply: one token reply per placed token (the prelude's reply), in log order
local K_UNLOGGED = KEYS[13]
local max_active = flags_fresh(ARGV[7]) and tonumber(ARGV[4]) or 0
local active_ms, channel = tonumber(ARGV[5]), ARGV[6]
local now = clock_ms()
local placed = {}

for i = 8, #ARGV - 1, 2 do
  local token, user = ARGV[i], ARGV[i + 1]
  local state = load(token)
  if state and state.p and state.s == 'WAITING' and state.u == user then
    state.p = nil
    redis.call('ZREM', K_PENDING, token)
    redis.call('ZREM', K_UNLOGGED, token)
    if is_live(state, now) then
      state.q = redis.call('INCR', K_SEQ)
      if redis.call('ZCARD', K_WAITING) == 0 and redis.call('ZCARD', K_ACTIVE) < max_active then
        activate(token, state, now, active_ms)
      else
        redis.call('ZADD', K_WAITING, state.q, token)
        save(token, state)
      end
      placed[#placed + 1] = reply(token, state, now, position(token, state))
    else
      -- Not polled for the idle lifetime while its entry waited in the log.
      retire(token, state, now)
    end
  end
end

if #placed > 0 then
  redis.call('PUBLISH', channel, cjson.encode(placed))
end
return placed

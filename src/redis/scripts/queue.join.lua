-- Guarantees: one live token per user in the room (re-entry returns it, same place, touched like a poll); a new token joins the back of the line in arrival order, ACTIVE at once only when nobody waits and a slot is free.
-- ARGV: 4 new token, 5 user id, 6 max active at once (0 when the room admits nobody at a join: not open, or rate-limited), 7 active lifetime ms, 8 touch interval ms
local new_token, user = ARGV[4], ARGV[5]
local max_active, active_ms, touch_ms = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local now = clock_ms()

local current, live = live_token(user, now, touch_ms)
if current then
  return reply(current, live, now, position(current, live))
end

local state = { u = user, s = 'WAITING', q = redis.call('INCR', K_SEQ), e = now, seen = now }
if redis.call('ZCARD', K_WAITING) == 0 and redis.call('ZCARD', K_ACTIVE) < max_active then
  activate(new_token, state, now, active_ms)
else
  redis.call('ZADD', K_WAITING, state.q, new_token)
  redis.call('ZADD', K_IDLE, now, new_token)
  save(new_token, state)
end
redis.call('HSET', K_USERS, user, new_token)
return reply(new_token, state, now, position(new_token, state))

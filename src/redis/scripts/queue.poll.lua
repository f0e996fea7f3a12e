-- Guarantees: a token's state and exact position (ZRANK) read at one instant of the Redis clock; a live WAITING token's idle deadline moves (a poll keeps it alive).
-- ARGV: 4 token, 5 touch interval ms
local token, touch_ms = ARGV[4], tonumber(ARGV[5])
local now = clock_ms()
local state = load(token)
if not state then
  return {}
end
touch(token, state, now, touch_ms)
return reply(token, state, now, position(token, state))

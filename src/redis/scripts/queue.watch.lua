-- Guarantees: the states and exact positions (ZRANK) of many tokens and the admissions within the rate window, all read at one instant of the Redis clock; each live WAITING token's idle deadline moves as a poll would move it (an open live stream keeps its token alive).
-- ARGV: 4 touch interval ms, 5 admission-rate window ms, 6.. tokens
-- Reply: {now, admissions in the window, token reply or {} per token in ARGV order}
local touch_ms, rate_window_ms = tonumber(ARGV[4]), tonumber(ARGV[5])
local now = clock_ms()
local result = { now, redis.call('ZCOUNT', K_ADMISSIONS, string.format('(%d', now - rate_window_ms), '+inf') }
for i = 6, #ARGV do
  local token = ARGV[i]
  local state = load(token)
  if state then
    touch(token, state, now, touch_ms)
    result[#result + 1] = reply(token, state, now, position(token, state))
  else
    result[#result + 1] = {}
  end
end
return result

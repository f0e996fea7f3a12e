-- Guarantees: the states and exact positions (ZRANK) of many tokens and the admissions within the rate window (per bucket, for the wait estimate: queue.estimate.ts), all read at one instant of the Redis clock; each live WAITING token's idle deadline moves as a poll would move it (an open live stream keeps its token alive).
-- ARGV: 4 touch interval ms, 5 admission-rate window ms, 6 buckets, 7.. tokens
-- Reply: {now, {admissions per bucket of the window, newest first}, {age ms of the window's oldest admission run or -1, its admissions}, token reply or {} per token in ARGV order}
local touch_ms, rate_window_ms, buckets = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local now = clock_ms()
local counts = {}
for b = 1, buckets do
  local upto, from = now - math.floor(rate_window_ms * (b - 1) / buckets), now - math.floor(rate_window_ms * b / buckets)
  counts[b] = redis.call('ZCOUNT', K_ADMISSIONS, string.format('(%d', from), b == 1 and '+inf' or string.format('%d', upto))
end
-- The oldest admission run of the window (one run admits at one instant: one score).
local oldest = { -1, 0 }
local first = redis.call('ZRANGEBYSCORE', K_ADMISSIONS, string.format('(%d', now - rate_window_ms), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if #first == 2 then
  oldest = { now - tonumber(first[2]), redis.call('ZCOUNT', K_ADMISSIONS, first[2], first[2]) }
end
local result = { now, counts, oldest }
for i = 7, #ARGV do
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

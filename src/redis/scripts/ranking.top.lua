-- Guarantees: the N highest counts plus every member tied with the Nth (so the caller can break ties by concert id), read at one instant; false when the set lacks its completeness marker (lost, flushed, or only partly refilled).
-- KEYS: 1 ranking; ARGV: 1 N, 2 marker member
if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  return false
end
local top = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '(0', 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
if #top < 2 * tonumber(ARGV[1]) then
  return { top, {} }
end
local last = top[#top]
return { top, redis.call('ZRANGEBYSCORE', KEYS[1], last, last, 'WITHSCORES') }

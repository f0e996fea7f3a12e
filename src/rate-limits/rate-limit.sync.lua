-- Guarantees: each counter grows by exactly the requests one instance adds, and a counter always expires at the end of its window (set when the counter is new), so a window never outlives its length. Returns each counter's total and remaining window after the addition.
-- KEYS: the counters (one hash tag, so one slot); ARGV[2i-1]: requests to add to KEYS[i], ARGV[2i]: its window in ms
-- Returns {total1, ttl1, total2, ttl2, ...}
local result = {}
for i, key in ipairs(KEYS) do
  local total = redis.call('INCRBY', key, ARGV[2 * i - 1])
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    ttl = tonumber(ARGV[2 * i])
    redis.call('PEXPIRE', key, ttl)
  end
  result[2 * i - 1] = total
  result[2 * i] = ttl
end
return result

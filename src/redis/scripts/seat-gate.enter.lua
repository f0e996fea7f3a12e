-- Guarantees: the caller becomes the seat's decider (its pending value stored with the gate's TTL) only when the gate is free; otherwise the gate's value is returned untouched. Returns '' when the caller got the gate.
-- KEYS: 1 gate; ARGV: 1 pending value, 2 TTL ms
local current = redis.call('GET', KEYS[1])
if current then
  return current
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ''

-- Guarantees: in one step, the attempt frees its gate (never a gate another attempt holds now) and records what the database said, for the attempts that waited on it, for the TTL.
-- KEYS: 1 gate, 2 this attempt's decision; ARGV: 1 this attempt's gate value, 2 decision or '' (nothing to tell), 3 TTL ms
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
return 1

-- Guarantees: lists (oldest first) the joins still pending whose log entry no broker acknowledged for longer than the repair delay — their process crashed, or its rollback was lost — and drops index entries of tokens no longer pending. Writes nothing else.
-- KEYS: the queue's (prelude), then 12 unlogged
-- ARGV: 4 repair delay ms, 5 most tokens
-- Reply: token, user id pairs
local K_UNLOGGED = KEYS[12]
local delay_ms, batch = tonumber(ARGV[4]), tonumber(ARGV[5])
local now = clock_ms()
local stale = redis.call('ZRANGEBYSCORE', K_UNLOGGED, '-inf', now - delay_ms, 'LIMIT', 0, batch)
local result = {}
for _, token in ipairs(stale) do
  local state = load(token)
  if state and state.p and state.s == 'WAITING' then
    result[#result + 1] = token
    result[#result + 1] = state.u
  else
    redis.call('ZREM', K_UNLOGGED, token)
  end
end
return result

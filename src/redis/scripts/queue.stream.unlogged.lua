-- Guarantees: lists the joins still pending whose log entry no broker acknowledged for longer than the repair delay — their process crashed, or its rollback was lost — in the order they were taken (their pending sequence: a move's batch in its draw order), and drops index entries of tokens no longer pending. The list is the oldest `most tokens` and every other taken in the same millisecond as the last of them (one script's batch shares its time), so each run continues where the last one ended. Writes nothing else.
-- KEYS: the queue's (prelude), then 13 unlogged
-- ARGV: 4 repair delay ms, 5 most tokens
-- Reply: token, user id pairs
local K_UNLOGGED = KEYS[13]
local delay_ms, batch = tonumber(ARGV[4]), tonumber(ARGV[5])
local now = clock_ms()
local stale = redis.call('ZRANGEBYSCORE', K_UNLOGGED, '-inf', now - delay_ms, 'WITHSCORES', 'LIMIT', 0, batch)
if #stale == 2 * batch then
  -- Members of one score come in token order, not taken order: take the whole last millisecond.
  local last = stale[#stale]
  stale = redis.call('ZRANGEBYSCORE', K_UNLOGGED, '-inf', last, 'WITHSCORES')
end
local taken = {}
for i = 1, #stale, 2 do
  local token = stale[i]
  local state = load(token)
  local seq = redis.call('ZSCORE', K_PENDING, token)
  if state and state.p and state.s == 'WAITING' and seq then
    taken[#taken + 1] = { token = token, user = state.u, seq = tonumber(seq) }
  else
    redis.call('ZREM', K_UNLOGGED, token)
  end
end
table.sort(taken, function(a, b) return a.seq < b.seq end)
local result = {}
for _, entry in ipairs(taken) do
  result[#result + 1] = entry.token
  result[#result + 1] = entry.user
end
return result

-- Guarantees: a join whose log entry could not be written is undone as if it never was (the token is unknown, the user may join again); a token already applied, expired or unknown is left alone. Returns 1 when undone.
-- KEYS: the queue's (prelude), then 13 unlogged
-- ARGV: 4 token
local K_UNLOGGED = KEYS[13]
local token = ARGV[4]
local state = load(token)
if not state or not state.p or state.s ~= 'WAITING' then
  return 0
end
redis.call('HDEL', K_TOKENS, token)
redis.call('ZREM', K_PENDING, token)
redis.call('ZREM', K_UNLOGGED, token)
redis.call('ZREM', K_IDLE, token)
if redis.call('HGET', K_USERS, state.u) == token then
  redis.call('HDEL', K_USERS, state.u)
end
return 1

-- Guarantees: a token's state with the Redis clock's now, read together; writes nothing.
-- ARGV: 4 token
local token = ARGV[4]
local now = clock_ms()
local state = load(token)
if not state then
  return {}
end
return reply(token, state, now, 0)

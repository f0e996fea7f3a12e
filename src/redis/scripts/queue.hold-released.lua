-- Guarantees: an ACTIVE token whose hold ended lives only its own shopping time again (expiresAt = activeUntil, no hold concert). Returns 1 when changed.
-- ARGV: 4 token
local token = ARGV[4]
local state = load(token)
if not state or state.s ~= 'ACTIVE' then
  return 0
end
state.ex = state.au
state.hc = nil
save(token, state)
redis.call('ZADD', K_ACTIVE, state.ex, token)
return 1

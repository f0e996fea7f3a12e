-- Guarantees: an ACTIVE token not yet swept lives until max(activeUntil, hold expiry), for the hold's concert only; a swept (EXPIRED) token is never revived. Returns 1 when extended.
-- ARGV: 4 token, 5 hold expires at ms, 6 concert id, 7 sweep delay ms
local token, hold_ms, concert, sweep_delay_ms = ARGV[4], tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local now = clock_ms()
local state = load(token)
if not state or state.s ~= 'ACTIVE' or state.ex + sweep_delay_ms <= now then
  return 0
end
state.ex = math.max(state.au, hold_ms)
state.hc = concert
save(token, state)
redis.call('ZADD', K_ACTIVE, state.ex, token)
return 1

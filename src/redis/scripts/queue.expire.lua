-- Guarantees: a live token leaves the line or its slot and turns EXPIRED, atomically with the user index; an EXPIRED token stays EXPIRED; a freed slot counts in the room's freed count. Returns 1 when this call expired it.
-- ARGV: 4 token
local token = ARGV[4]
local now = clock_ms()
local state = load(token)
if not state or state.s == 'EXPIRED' then
  return 0
end
if state.s == 'ACTIVE' then
  redis.call('INCR', K_FREED)
end
retire(token, state, now)
return 1

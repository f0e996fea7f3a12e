-- Guarantees: one live token per user in the room (re-entry returns it, same place, touched like a poll); a new token joins the back of the line in arrival order, ACTIVE at once only when nobody waits and a slot is free.
-- ARGV: 4 new token, 5 user id, 6 max active at once (0 when the room admits nobody at a join: not open, or rate-limited), 7 active lifetime ms, 8 touch interval ms
local now = clock_ms()
local token, state = join_line(ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), now)
return reply(token, state, now, position(token, state))

-- Guarantees: one live token per user in the room (re-entry returns it, same place, touched like a poll); a new token joins the back of the line in arrival order, ACTIVE at once only when nobody waits and a slot is free.
-- ARGV: 4 new token, 5 user id, 6 max active at once (0 when the room admits nobody at a join: not open, or rate-limited), 7 active lifetime ms, 8 touch interval ms, 9 freed count seen before the sold-out flags ('' none; stale: not ACTIVE at once)
local now = clock_ms()
local max_active = flags_fresh(ARGV[9]) and tonumber(ARGV[6]) or 0
local token, state = join_line(ARGV[4], ARGV[5], max_active, tonumber(ARGV[7]), tonumber(ARGV[8]), now)
return reply(token, state, now, position(token, state))

-- Guarantees: the given users' tokens are taken as pending in the order given, as queue.stream.join would one after another; an entry whose token the room already knows, or whose user holds a live token, changes nothing. The reply lists the entries to append to the log in the order given: those taken now and those still pending (a mover that stopped before its append), so a batch run again keeps every place (applying an entry twice places it once).
-- KEYS: the queue's (prelude), then 13 unlogged
-- ARGV: 4 touch interval ms, 5.. token, user id pairs
-- Reply: {now, token, user id, token, user id, ...}
local K_UNLOGGED = KEYS[13]
local touch_ms = tonumber(ARGV[4])
local now = clock_ms()
local append = { now }

for i = 5, #ARGV - 1, 2 do
  local token, user = ARGV[i], ARGV[i + 1]
  local state = load(token)
  local take = not state and not live_token(user, now, touch_ms)
  if take then
    take_pending(token, user, now, K_UNLOGGED)
  end
  if take or (state and state.p and state.s == 'WAITING' and state.u == user) then
    append[#append + 1] = token
    append[#append + 1] = user
  end
end
return append

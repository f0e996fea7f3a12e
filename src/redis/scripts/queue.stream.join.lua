-- Guarantees: one live token per user, joins not yet applied included: re-entry returns the user's live or pending token (touched like a poll); otherwise the new token is taken for the user as pending (WAITING, no place yet, unlogged) until the consumer applies its log entry.
-- KEYS: the queue's (prelude), then 13 unlogged
-- ARGV: 4 new token, 5 user id, 6 touch interval ms
-- Reply: the prelude's token reply, then fresh (1 when this call took the new token) and pending (1 while not applied)
local K_UNLOGGED = KEYS[13]
local new_token, user, touch_ms = ARGV[4], ARGV[5], tonumber(ARGV[6])
local now = clock_ms()

local current, live = live_token(user, now, touch_ms)
if current then
  local answer = reply(current, live, now, position(current, live))
  answer[#answer + 1] = 0
  answer[#answer + 1] = live.p and 1 or 0
  return answer
end

local state = take_pending(new_token, user, now, K_UNLOGGED)
local answer = reply(new_token, state, now, position(new_token, state))
answer[#answer + 1] = 1
answer[#answer + 1] = 1
return answer

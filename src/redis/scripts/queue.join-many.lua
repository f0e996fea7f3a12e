-- Guarantees: the given users join in the order given, each with its given token, as queue.join would one after another; an entry whose token the room already knows (joined before, maybe expired since: never revived) or whose user has a live token changes nothing, so a batch run again keeps every place.
-- ARGV: 4 max active at once (as queue.join), 5 active lifetime ms, 6 touch interval ms, 7 freed count seen (as queue.join), 8.. token, user id pairs
-- Reply: {entries joined, now}
local max_active = flags_fresh(ARGV[7]) and tonumber(ARGV[4]) or 0
local active_ms, touch_ms = tonumber(ARGV[5]), tonumber(ARGV[6])
local now = clock_ms()
local joined = 0

for i = 8, #ARGV - 1, 2 do
  if redis.call('HEXISTS', K_TOKENS, ARGV[i]) == 0 then
    local _, _, fresh = join_line(ARGV[i], ARGV[i + 1], max_active, active_ms, touch_ms, now)
    if fresh then
      joined = joined + 1
    end
  end
end
return { joined, now }

-- Guarantees: each shard stream of a consumer group is leased by at most one live consumer; live members split the shards evenly (shard % members == rank by name), a member hands over at once what is no longer its share, and a silent member's shards and membership run out after ARGV[2] ms. Returns the shards the caller owns after the call.
-- KEYS: 1 members ZSET of the group; 2.. the lease key of shard 0, 1, … in order
-- ARGV: 1 consumer name, 2 ttl ms, 3 mode: 'rebalance' (join, renew, release and take), 'renew' (keep what it owns), 'leave'
local me = ARGV[1]
local ttl = tonumber(ARGV[2])
local mode = ARGV[3]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local members = KEYS[1]
local shards = #KEYS - 1

if mode == 'leave' then
  redis.call('ZREM', members, me)
  for shard = 0, shards - 1 do
    local lease = KEYS[shard + 2]
    if redis.call('GET', lease) == me then
      redis.call('DEL', lease)
    end
  end
  return {}
end

redis.call('ZADD', members, now + ttl, me)
redis.call('ZREMRANGEBYSCORE', members, '-inf', now)
redis.call('PEXPIRE', members, ttl * 2)

local owned = {}
if mode == 'renew' then
  for shard = 0, shards - 1 do
    local lease = KEYS[shard + 2]
    if redis.call('GET', lease) == me then
      redis.call('PEXPIRE', lease, ttl)
      owned[#owned + 1] = shard
    end
  end
  return owned
end

-- Ranks by name, not by score: scores move with every heartbeat, names do not.
local live = redis.call('ZRANGE', members, 0, -1)
table.sort(live)
local rank = 0
for i, name in ipairs(live) do
  if name == me then
    rank = i - 1
  end
end
local count = #live

for shard = 0, shards - 1 do
  local lease = KEYS[shard + 2]
  local owner = redis.call('GET', lease)
  if shard % count == rank then
    if owner == me then
      redis.call('PEXPIRE', lease, ttl)
      owned[#owned + 1] = shard
    elseif not owner then
      redis.call('SET', lease, me, 'PX', ttl)
      owned[#owned + 1] = shard
    end
    -- Owned by another member: it releases the shard on its next rebalance (or its lease runs out).
  elseif owner == me then
    redis.call('DEL', lease)
  end
end
return owned

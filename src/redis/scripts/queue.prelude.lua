-- Prelude of every queue script (prepended when loading): the single clock, token state, and the steps that keep the sets and the user index consistent.
-- KEYS (every queue script, all under one room's hash tag): 1 seq, 2 waiting, 3 active, 4 idle, 5 expired, 6 tokens, 7 users, 8 clock, 9 admissions, 10 pending, 11 allowance, 12 freed
-- ARGV head (every queue script): 1 test clock on ('1' or '0'), 2 idle lifetime ms, 3 retention of EXPIRED tokens ms
local K_SEQ, K_WAITING, K_ACTIVE, K_IDLE, K_EXPIRED, K_TOKENS, K_USERS, K_CLOCK, K_ADMISSIONS, K_PENDING =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local K_ALLOWANCE, K_FREED = KEYS[11], KEYS[12]
local IDLE_MS = tonumber(ARGV[2])
local RETENTION_MS = tonumber(ARGV[3])

-- Redis TIME is the waiting room's only clock; tests may shift it through K_CLOCK.
local function clock_ms()
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if ARGV[1] == '1' then
    now = now + (tonumber(redis.call('GET', K_CLOCK)) or 0)
  end
  return now
end

-- State fields: u user id (string), s status, q arrival number, e entered, seen last poll,
-- aa activated, au active until, ex expires at, hc hold concert id (string), xa expired at,
-- p pending (stream backend: WAITING, joined, its log entry not applied yet, so no arrival number).
local function load(token)
  local raw = redis.call('HGET', K_TOKENS, token)
  if not raw then
    return nil
  end
  return cjson.decode(raw)
end

local function save(token, state)
  redis.call('HSET', K_TOKENS, token, cjson.encode(state))
end

-- Whether the sold-out flags a caller read for this room still hold: `seen` is the room's freed
-- count read before them ('' = no flags to keep fresh). A slot freed since may be the last buyer's,
-- in a sale the flags do not know is sold out yet: nobody is admitted into it (decision 0057).
local function flags_fresh(seen)
  return seen == '' or (redis.call('GET', K_FREED) or '0') == seen
end

-- The same rule as effectiveStatus in queue.rules.ts.
local function is_live(state, now)
  if state.s == 'ACTIVE' then
    return state.ex > now
  end
  if state.s == 'WAITING' then
    return state.seen + IDLE_MS > now
  end
  return false
end

-- Leaves every live set; the state stays readable as EXPIRED until the retention purge.
local function retire(token, state, now)
  redis.call('ZREM', K_WAITING, token)
  redis.call('ZREM', K_PENDING, token)
  redis.call('ZREM', K_ACTIVE, token)
  redis.call('ZREM', K_IDLE, token)
  if not state then
    return
  end
  state.s = 'EXPIRED'
  state.xa = now
  save(token, state)
  redis.call('ZADD', K_EXPIRED, now, token)
  if redis.call('HGET', K_USERS, state.u) == token then
    redis.call('HDEL', K_USERS, state.u)
  end
end

local function activate(token, state, now, active_ms)
  state.s = 'ACTIVE'
  state.aa = now
  state.au = now + active_ms
  state.ex = state.au
  redis.call('ZREM', K_WAITING, token)
  redis.call('ZREM', K_IDLE, token)
  redis.call('ZADD', K_ACTIVE, state.ex, token)
  -- The admission rate (live positions' wait estimates) counts admissions over a recent window.
  redis.call('ZADD', K_ADMISSIONS, now, token)
  save(token, state)
end

-- A poll moves a live WAITING token's idle deadline, at most once per touch interval.
local function touch(token, state, now, touch_ms)
  if state.s == 'WAITING' and state.seen < now - touch_ms and state.seen + IDLE_MS > now then
    state.seen = now
    save(token, state)
    redis.call('ZADD', K_IDLE, now, token)
  end
end

-- The user's live token and its state, touched like a poll; nil when none. A token past its time
-- but not swept yet is retired on the way (never revived), and a stale user entry is dropped.
local function live_token(user, now, touch_ms)
  local current = redis.call('HGET', K_USERS, user)
  if not current then
    return nil
  end
  local state = load(current)
  if state and is_live(state, now) then
    touch(current, state, now, touch_ms)
    return current, state
  end
  if state and state.s ~= 'EXPIRED' then
    retire(current, state, now)
  else
    redis.call('HDEL', K_USERS, user)
  end
  return nil
end

local function position(token, state)
  if state.s ~= 'WAITING' then
    return 0
  end
  if state.p then
    -- Not applied from the log yet: behind the whole line and every earlier join still pending.
    local pending = redis.call('ZRANK', K_PENDING, token)
    if not pending then
      return 0
    end
    return redis.call('ZCARD', K_WAITING) + pending + 1
  end
  local rank = redis.call('ZRANK', K_WAITING, token)
  if not rank then
    return 0
  end
  return rank + 1
end

-- Reply: {token, user, status, activeUntil, expiresAt, holdConcertId, lastSeenAt, position, now}; '' = none.
local function reply(token, state, now, place)
  return { token, state.u, state.s, state.au or '', state.ex or '', state.hc or '', state.seen, place, now }
end

-- Joins the line: the user's live token (touched), or `new_token` at the back of the line in
-- arrival order, ACTIVE at once only when nobody waits and a slot is free (queue.join, queue.join-many).
local function join_line(new_token, user, max_active, active_ms, touch_ms, now)
  local current, live = live_token(user, now, touch_ms)
  if current then
    return current, live, false
  end
  local state = { u = user, s = 'WAITING', q = redis.call('INCR', K_SEQ), e = now, seen = now }
  if redis.call('ZCARD', K_WAITING) == 0 and redis.call('ZCARD', K_ACTIVE) < max_active then
    activate(new_token, state, now, active_ms)
  else
    redis.call('ZADD', K_WAITING, state.q, new_token)
    redis.call('ZADD', K_IDLE, now, new_token)
    save(new_token, state)
  end
  redis.call('HSET', K_USERS, user, new_token)
  return new_token, state, true
end

-- Stream backend: takes `token` for the user as pending (WAITING, no place yet, unlogged) until
-- the consumer applies its log entry; the join order orders provisional places only.
local function take_pending(token, user, now, unlogged_key)
  local state = { u = user, s = 'WAITING', p = 1, e = now, seen = now }
  redis.call('ZADD', K_PENDING, redis.call('INCR', K_SEQ), token)
  redis.call('ZADD', unlogged_key, now, token)
  redis.call('ZADD', K_IDLE, now, token)
  save(token, state)
  redis.call('HSET', K_USERS, user, token)
  return state
end

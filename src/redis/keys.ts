/**
 * Every Redis key Overture uses, in one place.
 *
 * Each group of keys that one Lua script touches together shares one hash tag,
 * `{<prefix>:<group>}`, so the whole group lives in one cluster slot and multi-key scripts also
 * run on Redis Cluster. Every key therefore starts with `{<prefix>:`, which lets a test (or an
 * operator) find all keys of one prefix with a single SCAN pattern; keep that true for new groups.
 *
 * Outgrowing one Redis (REDIS_CLUSTER_NODES, decision 0059): one queue is one slot, so one
 * waiting room is bounded by what one Redis primary can do (scripts run one at a time; each queue
 * call is one short script). Positions are exact only while the whole line lives in one place, so
 * the queue is never split across nodes. Each concert room has a tag of its own, so different
 * sales land on different cluster primaries; replicas add failover, not queue throughput.
 */

/** The ranking's completeness marker member (never a concert id, which is all digits). */
export const RANKING_COMPLETE = 'complete';

/** Allowed prefixes: no hash-tag braces, no glob characters, no spaces. */
export const KEY_PREFIX_PATTERN = '^[A-Za-z0-9_.:-]{1,64}$';

/**
 * The waiting room. Tokens are members of the sorted sets; their state lives in one hash (field =
 * token), so every key a queue script reads or writes is declared in its KEYS.
 */
export interface QueueKeys {
  /** STRING: arrival counter (INCR); a token's arrival number orders the line. */
  seq: string;
  /** ZSET: WAITING tokens scored by arrival number — the line; ZRANK + 1 is the exact position. */
  waiting: string;
  /** ZSET: ACTIVE tokens scored by expiresAt (ms) — expiry is a score cut-off. */
  active: string;
  /** ZSET: WAITING tokens scored by their last poll (ms) — idle expiry is a score cut-off. */
  idle: string;
  /** ZSET: EXPIRED tokens scored by expiry time (ms) — purged after the retention time. */
  expired: string;
  /** HASH: token → JSON state {u user, s status, q arrival, e entered, seen, aa, au, ex, hc, xa, p}. */
  tokens: string;
  /** HASH: user id → that user's live (WAITING or ACTIVE) token. */
  users: string;
  /** STRING: test-only clock offset in ms, read by the scripts only when the test clock is on. */
  clock: string;
  /**
   * ZSET: tokens scored by when they were admitted (ms), kept for the admission-rate window only —
   * ZCOUNT over it is the measured admission rate behind the live positions' wait estimates.
   */
  admissions: string;
  /**
   * ZSET (stream backend only): tokens joined whose log entry is not applied yet, scored by join
   * order (INCR seq) — their provisional place is behind the whole line and every earlier pending join.
   */
  pending: string;
  /**
   * ZSET (stream backend only): pending tokens whose log entry the brokers have not acknowledged,
   * scored by join time (ms) — the repair re-sends those left there by a crash.
   */
  unlogged: string;
  /** PUB/SUB channel (stream backend only), not a key: the views of tokens just applied. */
  applied: string;
  /**
   * HASH: the room's admission-rate allowance (a token bucket: `a` admissions allowed as of
   * `at` ms), read and spent by the admission script only.
   */
  allowance: string;
  /**
   * STRING: how many times a call (not an admission run) expired an ACTIVE token of the room — a
   * payment, a leave: each frees a slot outside admission. A run reads it before the sold-out
   * flags and admits nobody if it moved before its script (decision 0057, "Stale flags").
   */
  freed: string;
}

/** The keys of one queue, in the order every queue script receives them as KEYS[1..12]. */
export const queueKeyOrder = [
  'seq',
  'waiting',
  'active',
  'idle',
  'expired',
  'tokens',
  'users',
  'clock',
  'admissions',
  'pending',
  'allowance',
  'freed',
] as const satisfies readonly (keyof QueueKeys)[];

/**
 * The Redis Streams event bus. Every key of it shares the `{<prefix>:events}` hash tag, so one
 * XREADGROUP over all the shard streams and the lease script's multi-key calls also run on Redis
 * Cluster (at the price of one slot for all events: the bus is bounded by one primary).
 */
export interface EventKeys {
  /** STREAM: the events of shard `shard` (hash of the event key), one entry per event. */
  stream(shard: number): string;
  /** ZSET: live consumers of one group, scored by when their membership runs out (ms). */
  members(group: string): string;
  /** STRING (with a TTL): the consumer of `group` that owns shard `shard` — one reader per shard and group. */
  lease(group: string, shard: number): string;
}

export interface RedisKeys {
  prefix: string;
  /** The house room's waiting room (every concert without a room of its own). */
  queue: QueueKeys;
  /**
   * The waiting room of room `roomId` (a concert's id; 0 is the house room, {@link queue}): the
   * same keys under the hash tag `{<prefix>:room:<id>}`, so one room is one cluster slot and
   * different rooms spread over the cluster (docs/rooms.md).
   */
  room: (roomId: number) => QueueKeys;
  /**
   * ZSET: rooms (not the house room) that may have work for admission, scored by their last join
   * (ms, Redis clock); admission drops a room it found empty unless a join came since.
   */
  roomsWithWork: string;
  events: EventKeys;
  /**
   * ZSET: confirmed reservations per concert (member = concert id, score = count), a mirror of
   * PostgreSQL's concert_ranking written with ZADD GT (never lowered), plus the member
   * {@link RANKING_COMPLETE} (score -1) once it was rebuilt from PostgreSQL. A key without that
   * member was lost (flush, restart) or is being refilled, and is rebuilt before it is trusted.
   */
  ranking: string;
  /**
   * STRING per seat: the seat-hold gate (the seed's `lock:seat:{concertId}:{seatId}`), held only
   * while one attempt's database hold decides the seat. The whole key is its own hash tag, so
   * the gates of different seats spread over a cluster's slots.
   */
  seatGate: (concertId: number, seatId: number) => string;
  /**
   * STRING: what the database said to the attempt `attempt` that held a seat's gate, kept a few
   * seconds for the attempts that waited on it (same hash tag as the gate).
   */
  seatGateDecision: (concertId: number, seatId: number, attempt: string) => string;
  /**
   * STRING per rate-limit counter (`key` names the limit and the client), a fixed-window count
   * expiring with its window. One hash tag for all, so one script call syncs many counters.
   */
  rateLimit: (key: string) => string;
  /**
   * STRING per spent proof-of-work challenge (SET NX with its expiry, decision 0051). The whole
   * key is its own hash tag, so spent challenges spread over a cluster's slots.
   */
  powSpent: (nonce: string) => string;
  /** SCAN MATCH pattern for every key of this prefix. */
  pattern: string;
}

export function redisKeys(prefix: string): RedisKeys {
  if (!new RegExp(KEY_PREFIX_PATTERN).test(prefix))
    throw new Error(`Invalid Redis key prefix ${JSON.stringify(prefix)}`);
  const queueKeys = (queue: string): QueueKeys => ({
    seq: `${queue}:seq`,
    waiting: `${queue}:waiting`,
    active: `${queue}:active`,
    idle: `${queue}:idle`,
    expired: `${queue}:expired`,
    tokens: `${queue}:tokens`,
    users: `${queue}:users`,
    clock: `${queue}:test-clock-offset-ms`,
    admissions: `${queue}:admissions`,
    pending: `${queue}:pending`,
    unlogged: `${queue}:unlogged`,
    applied: `${queue}:applied`,
    allowance: `${queue}:allowance`,
    freed: `${queue}:freed`,
  });
  const house = queueKeys(`{${prefix}:queue}`);
  const events = `{${prefix}:events}`;
  return {
    prefix,
    queue: house,
    room: (roomId) => (roomId === 0 ? house : queueKeys(`{${prefix}:room:${roomId}}`)),
    roomsWithWork: `{${prefix}:rooms}:work`,
    ranking: `{${prefix}:ranking}:confirmed`,
    seatGate: (concertId, seatId) => `{${prefix}:lock:seat:${concertId}:${seatId}}`,
    seatGateDecision: (concertId, seatId, attempt) =>
      `{${prefix}:lock:seat:${concertId}:${seatId}}:decision:${attempt}`,
    rateLimit: (key) => `{${prefix}:rate-limit}:${key}`,
    powSpent: (nonce) => `{${prefix}:pow-spent:${nonce}}`,
    events: {
      stream: (shard) => `${events}:stream:${shard}`,
      members: (group) => `${events}:group:${group}:members`,
      lease: (group, shard) => `${events}:group:${group}:lease:${shard}`,
    },
    pattern: `{${prefix}:*`,
  };
}

/**
 * Every Redis key Overture uses, in one place.
 *
 * Each group of keys that one Lua script touches together shares one hash tag,
 * `{<prefix>:<group>}`, so the whole group lives in one cluster slot and multi-key scripts also
 * run on Redis Cluster. Every key therefore starts with `{<prefix>:`, which lets a test (or an
 * operator) find all keys of one prefix with a single SCAN pattern; keep that true for new groups.
 *
 * Outgrowing one Redis: one queue is one slot, so one waiting room is bounded by what one Redis
 * primary can do (scripts run one at a time; each queue call is one short script). Positions are
 * exact only while the whole line lives in one place, so the queue is never split across nodes.
 * Larger deployments run one queue per sale (a prefix per sale, e.g. `overture:sale-42`), so
 * different sales land on different cluster nodes; replicas add failover, not queue throughput.
 */

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
  /** HASH: token → JSON state {u user, s status, q arrival, e entered, seen, aa, au, ex, hc, xa}. */
  tokens: string;
  /** HASH: user id → that user's live (WAITING or ACTIVE) token. */
  users: string;
  /** STRING: test-only clock offset in ms, read by the scripts only when the test clock is on. */
  clock: string;
}

/** The keys of one queue, in the order every queue script receives them as KEYS[1..8]. */
export const queueKeyOrder = [
  'seq',
  'waiting',
  'active',
  'idle',
  'expired',
  'tokens',
  'users',
  'clock',
] as const satisfies readonly (keyof QueueKeys)[];

export interface RedisKeys {
  prefix: string;
  queue: QueueKeys;
  /** SCAN MATCH pattern for every key of this prefix. */
  pattern: string;
}

export function redisKeys(prefix: string): RedisKeys {
  if (!new RegExp(KEY_PREFIX_PATTERN).test(prefix))
    throw new Error(`Invalid Redis key prefix ${JSON.stringify(prefix)}`);
  const queue = `{${prefix}:queue}`;
  return {
    prefix,
    queue: {
      seq: `${queue}:seq`,
      waiting: `${queue}:waiting`,
      active: `${queue}:active`,
      idle: `${queue}:idle`,
      expired: `${queue}:expired`,
      tokens: `${queue}:tokens`,
      users: `${queue}:users`,
      clock: `${queue}:test-clock-offset-ms`,
    },
    pattern: `{${prefix}:*`,
  };
}

import type { RedisClient } from '../../src/redis/client.js';
import type { Config } from '../../src/config.js';
import { createRedisQueueStore } from '../../src/modules/queue/queue.store.redis.js';
import type { TokenStatus } from '../../src/modules/queue/queue.rules.js';
import { queueKeyOrder, redisKeys } from '../../src/redis/keys.js';
import type { TestDatabase } from './db.js';
import { travel } from './fixtures.js';
import { closeRedis, connectTestRedis, deletePrefix } from './redis.js';

export type QueueBackend = 'postgres' | 'redis' | 'stream';

/**
 * The queue backend API tests run on: TEST_QUEUE_BACKEND=redis runs them on Redis, =stream on
 * the Kafka log feeding the Redis waiting room (a private Kafka mock per test process).
 */
export const testQueueBackend = (): QueueBackend => {
  const backend = process.env.TEST_QUEUE_BACKEND;
  return backend === 'redis' || backend === 'stream' ? backend : 'postgres';
};

/** One token as the store keeps it (its stored status, not the status a read would compute). */
export interface TokenSnapshot {
  token: string;
  userId: number;
  status: TokenStatus;
  /** Place in arrival order: the arrival number (PostgreSQL column, Redis field q). */
  arrival: number;
  /** When it turned ACTIVE, in ms of the store's clock (fractions: PostgreSQL's microseconds); null if never. */
  activatedAt: number | null;
  /** When it ends (ACTIVE and later), in ms of the store's clock; null when it has no end yet. */
  expiresAt: number | null;
}

/**
 * What API tests need to know about the waiting room that the HTTP API does not tell, and time
 * travel, for either backend. Everything else a test checks goes through the API.
 */
export interface QueueInspector {
  backend: QueueBackend;
  /**
   * Moves time forward for tokens and seat holds by moving their stored times into the past (in
   * PostgreSQL and, on Redis, in the token states and sorted-set scores). Both stores keep reading
   * the real clock, so a hold's expiry (PostgreSQL's time) copied into a Redis token stays
   * comparable with Redis's time after any number of travels.
   */
  travel(seconds: number): Promise<void>;
  /** How many tokens this user was ever given. */
  tokenCount(userId: number): Promise<number>;
  /** Every token, in arrival order. */
  arrivalOrder(): Promise<string[]>;
  /** Every token as stored, in arrival order. */
  snapshot(): Promise<TokenSnapshot[]>;
  /** Tokens stored as ACTIVE (the slots taken: what MAX_ACTIVE bounds). */
  activeCount(): Promise<number>;
  /**
   * Expires a live token in the store behind the service's back (no hold released, no refill
   * woken): a token that ran out while its user still holds a seat.
   */
  expire(token: string): Promise<void>;
  /** Puts an ACTIVE token back in line as WAITING at its arrival place (admission may take it again). */
  requeue(token: string): Promise<void>;
  /** Empties the waiting room (every token of every user), like TRUNCATE queue_tokens. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

const needPool = (database: TestDatabase | undefined): TestDatabase => {
  if (!database) throw new Error('this check needs a PostgreSQL test database');
  return database;
};

const optionalMs = (value: number | string | null): number | null =>
  value === null ? null : Number(value);

export function postgresInspector(database: TestDatabase | undefined): QueueInspector {
  const pool = () => needPool(database).pool;
  return {
    backend: 'postgres',
    travel: (seconds) => travel(pool(), seconds),
    async tokenCount(userId) {
      const { rows } = await pool().query<{ n: number }>(
        `SELECT count(*)::int AS n FROM queue_tokens WHERE user_id = $1`,
        [userId],
      );
      return rows[0]?.n ?? 0;
    },
    async arrivalOrder() {
      const { rows } = await pool().query<{ token: string }>(
        `SELECT token FROM queue_tokens ORDER BY arrival, id`,
      );
      return rows.map((row) => row.token);
    },
    async snapshot() {
      const { rows } = await pool().query<{
        token: string;
        user_id: string;
        status: TokenStatus;
        arrival: string;
        activated_at: number | string | null;
        expires_at: number | string | null;
      }>(
        `SELECT token, user_id, status, arrival,
           (extract(epoch FROM activated_at) * 1000)::float8 AS activated_at,
           (extract(epoch FROM expires_at) * 1000)::float8 AS expires_at
         FROM queue_tokens ORDER BY arrival, id`,
      );
      return rows.map((row) => ({
        token: row.token,
        userId: Number(row.user_id),
        status: row.status,
        arrival: Number(row.arrival),
        activatedAt: optionalMs(row.activated_at),
        expiresAt: optionalMs(row.expires_at),
      }));
    },
    async activeCount() {
      const { rows } = await pool().query<{ n: number }>(
        `SELECT count(*)::int AS n FROM queue_tokens WHERE status = 'ACTIVE'`,
      );
      return rows[0]?.n ?? 0;
    },
    async expire(token) {
      await pool().query(
        `UPDATE queue_tokens SET status = 'EXPIRED', expired_at = now()
         WHERE token = $1 AND status IN ('WAITING', 'ACTIVE')`,
        [token],
      );
    },
    async requeue(token) {
      await pool().query(
        `UPDATE queue_tokens SET status = 'WAITING', activated_at = NULL, active_until = NULL, expires_at = NULL
         WHERE token = $1 AND status = 'ACTIVE'`,
        [token],
      );
    },
    async clear() {
      await pool().query(`TRUNCATE queue_tokens, queue_skipped_arrivals`);
    },
    close: () => Promise.resolve(),
  };
}

/** A token's state in the tokens hash (fields: src/redis/keys.ts and queue.prelude.lua). */
interface StoredToken {
  u: string;
  s: TokenStatus;
  q: number;
  aa?: number;
  ex?: number;
}

/**
 * Moves every stored time of one queue `ARGV[1]` ms into the past: the time fields of each token
 * state and the time-scored sets (waiting is scored by arrival number, not time). One script, so
 * no queue script ever sees half-moved times.
 */
const SHIFT_TIMES = `
local shift = tonumber(ARGV[1])
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local state = cjson.decode(entries[i + 1])
  for _, field in ipairs({ 'e', 'seen', 'aa', 'au', 'ex', 'xa' }) do
    if type(state[field]) == 'number' then
      state[field] = state[field] - shift
    end
  end
  redis.call('HSET', KEYS[1], entries[i], cjson.encode(state))
end
for k = 2, #KEYS do
  local members = redis.call('ZRANGE', KEYS[k], 0, -1, 'WITHSCORES')
  for i = 1, #members, 2 do
    redis.call('ZADD', KEYS[k], tonumber(members[i + 1]) - shift, members[i])
  end
end
return #entries / 2
`;

/** The Redis side of postgresInspector's requeue: back in line at its arrival number. */
const REQUEUE = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then
  return 0
end
local state = cjson.decode(raw)
if state.s ~= 'ACTIVE' then
  return 0
end
state.s = 'WAITING'
state.aa = nil
state.au = nil
state.ex = nil
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], state.q, ARGV[1])
redis.call('ZADD', KEYS[4], state.seen, ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(state))
return 1
`;

/**
 * Reads the Redis waiting room of one key prefix. `ownsPrefix`: the prefix was made for this
 * server alone, so closing deletes its keys. `config` is the server's (its queue settings).
 */
export async function redisInspector(
  database: TestDatabase | undefined,
  config: Config,
  ownsPrefix: boolean,
): Promise<QueueInspector> {
  const prefix = config.REDIS_KEY_PREFIX;
  const client: RedisClient = await connectTestRedis();
  const keys = redisKeys(prefix).queue;
  // The service's own store on this client, for changes that must be exactly the service's.
  const store = createRedisQueueStore(client, {
    keyPrefix: prefix,
    maxActive: config.MAX_ACTIVE,
    activeTtlSeconds: config.ACTIVE_TOKEN_TTL_SECONDS,
    idleSeconds: config.WAITING_TOKEN_IDLE_SECONDS,
    testClock: config.NODE_ENV === 'test',
  });
  const tokens = async () =>
    Object.entries(await client.hgetall(keys.tokens))
      .map(([token, json]) => [token, JSON.parse(json) as StoredToken] as const)
      .sort(([, a], [, b]) => a.q - b.q);
  return {
    backend: config.QUEUE_BACKEND === 'stream' ? 'stream' : 'redis',
    async travel(seconds) {
      if (database) await travel(database.pool, seconds);
      await client.eval(
        SHIFT_TIMES,
        4,
        keys.tokens,
        keys.active,
        keys.idle,
        keys.expired,
        Math.round(seconds * 1000),
      );
    },
    async tokenCount(userId) {
      return (await tokens()).filter(([, state]) => state.u === String(userId)).length;
    },
    async arrivalOrder() {
      return (await tokens()).map(([token]) => token);
    },
    async snapshot() {
      return (await tokens()).map(([token, state]) => ({
        token,
        userId: Number(state.u),
        status: state.s,
        arrival: state.q,
        activatedAt: state.aa ?? null,
        expiresAt: state.ex ?? null,
      }));
    },
    activeCount: () => client.zcard(keys.active),
    async expire(token) {
      await store.expire(token);
    },
    async requeue(token) {
      await client.eval(REQUEUE, 4, keys.tokens, keys.waiting, keys.active, keys.idle, token);
    },
    async clear() {
      await client.unlink(...queueKeyOrder.map((name) => keys[name]));
    },
    async close() {
      if (ownsPrefix) await deletePrefix(client, prefix);
      await closeRedis(client);
    },
  };
}

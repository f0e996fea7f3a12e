import type { Redis } from 'ioredis';
import { redisKeys } from '../../src/redis/keys.js';
import type { TestDatabase } from './db.js';
import { travel } from './fixtures.js';
import { closeRedis, connectTestRedis, deletePrefix, travelRedis } from './redis.js';

export type QueueBackend = 'postgres' | 'redis';

/** The queue backend API tests run on: TEST_QUEUE_BACKEND=redis runs them on Redis. */
export const testQueueBackend = (): QueueBackend =>
  process.env.TEST_QUEUE_BACKEND === 'redis' ? 'redis' : 'postgres';

/**
 * What API tests need to know about the waiting room that the HTTP API does not tell, and time
 * travel, for either backend. Everything else a test checks goes through the API.
 */
export interface QueueInspector {
  backend: QueueBackend;
  /** Moves time forward for tokens and seat holds (stored times in PostgreSQL, Redis's clock). */
  travel(seconds: number): Promise<void>;
  /** How many tokens this user was ever given. */
  tokenCount(userId: number): Promise<number>;
  /** Every token, in arrival order. */
  arrivalOrder(): Promise<string[]>;
  activeCount(): Promise<number>;
  close(): Promise<void>;
}

const needPool = (database: TestDatabase | undefined): TestDatabase => {
  if (!database) throw new Error('this check needs a PostgreSQL test database');
  return database;
};

export function postgresInspector(database: TestDatabase | undefined): QueueInspector {
  return {
    backend: 'postgres',
    travel: (seconds) => travel(needPool(database).pool, seconds),
    async tokenCount(userId) {
      const { rows } = await needPool(database).pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM queue_tokens WHERE user_id = $1`,
        [userId],
      );
      return rows[0]?.n ?? 0;
    },
    async arrivalOrder() {
      const { rows } = await needPool(database).pool.query<{ token: string }>(
        `SELECT token FROM queue_tokens ORDER BY id`,
      );
      return rows.map((row) => row.token);
    },
    async activeCount() {
      const { rows } = await needPool(database).pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM queue_tokens WHERE status = 'ACTIVE'`,
      );
      return rows[0]?.n ?? 0;
    },
    close: () => Promise.resolve(),
  };
}

interface StoredToken {
  u: string;
  q: number;
  s: string;
}

/**
 * Reads the Redis waiting room of one key prefix. `ownsPrefix`: the prefix was made for this
 * server alone, so closing deletes its keys.
 */
export async function redisInspector(
  database: TestDatabase | undefined,
  prefix: string,
  ownsPrefix: boolean,
): Promise<QueueInspector> {
  const client: Redis = await connectTestRedis();
  const keys = redisKeys(prefix).queue;
  const tokens = async () =>
    Object.entries(await client.hgetall(keys.tokens)).map(
      ([token, json]) => [token, JSON.parse(json) as StoredToken] as const,
    );
  return {
    backend: 'redis',
    async travel(seconds) {
      if (database) await travel(database.pool, seconds);
      await travelRedis(client, prefix, seconds);
    },
    async tokenCount(userId) {
      return (await tokens()).filter(([, state]) => state.u === String(userId)).length;
    },
    async arrivalOrder() {
      return (await tokens()).sort(([, a], [, b]) => a.q - b.q).map(([token]) => token);
    },
    activeCount: () => client.zcard(keys.active),
    async close() {
      if (ownsPrefix) await deletePrefix(client, prefix);
      await closeRedis(client);
    },
  };
}

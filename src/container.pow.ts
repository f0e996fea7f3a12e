import type { RedisClient } from './redis/client.js';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { createPowGate, type PowGate } from './modules/queue/queue.pow.gate.js';
import { createPostgresPowSpent } from './modules/queue/queue.pow-spent.postgres.js';
import { createRedisPowSpent } from './modules/queue/queue.pow-spent.redis.js';
import type { PowSecret } from './modules/queue/queue.pow.secret.js';

/**
 * The rooms' proof of work (decision 0051): spent challenges are kept where the waiting room is
 * (Redis for the redis and stream backends, PostgreSQL for postgres), so every instance of a
 * deployment sees every spend.
 */
export function createProofOfWork(
  config: Pick<Config, 'QUEUE_BACKEND' | 'REDIS_KEY_PREFIX'>,
  database: Database,
  redis: RedisClient | undefined,
  secret: PowSecret,
): PowGate {
  const spent =
    config.QUEUE_BACKEND !== 'postgres' && redis
      ? createRedisPowSpent(redis, config.REDIS_KEY_PREFIX)
      : createPostgresPowSpent(database);
  return createPowGate({ secret: secret.source === 'none' ? undefined : secret.secret, spent });
}

/** createContainer's arguments; the secret defaults to none (no room may require work). */
export type ContainerArgs = [
  config: Config,
  database: Database,
  logger: Logger,
  powSecret?: PowSecret,
];

import type { RedisClient } from './redis/client.js';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createMemorySeatGate } from './modules/holds/seat-gate.memory.js';
import { createRedisSeatGate } from './modules/holds/seat-gate.redis.js';

/** The seat gate in front of holds: shared by all instances through Redis when there is one, per instance otherwise. */
export const createSeatGate = (config: Config, redis: RedisClient | undefined, logger: Logger) =>
  !config.SEAT_GATE_ENABLED
    ? undefined
    : redis
      ? createRedisSeatGate(redis, {
          keyPrefix: config.REDIS_KEY_PREFIX,
          ttlMs: config.SEAT_GATE_TTL_MS,
          logger,
        })
      : createMemorySeatGate({ ttlMs: config.SEAT_GATE_TTL_MS });

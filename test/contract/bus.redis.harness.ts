import pino from 'pino';
import type { EventBus } from '../../src/modules/events/bus.js';
import { createRedisBus } from '../../src/modules/events/bus.redis.js';
import type { RedisClient } from '../../src/redis/client.js';
import { closeRedis, connectTestRedis, deletePrefix, testKeyPrefix } from '../support/redis.js';
import type { eventBusContract } from './bus.contract.js';

/**
 * The bus contract's space on the Redis Streams bus, on whatever connectTestRedis connects to
 * (the machine's Redis, or a private cluster: test/support/redis.ts useRedisCluster).
 */
export const redisBusSpace: Parameters<typeof eventBusContract>[0]['space'] = () => {
  // A key prefix of this test's own on the shared Redis; each "process" has its own client.
  const prefix = testKeyPrefix();
  const clients: RedisClient[] = [];
  const buses: EventBus[] = [];
  return Promise.resolve({
    async open() {
      const client = await connectTestRedis();
      clients.push(client);
      const bus = createRedisBus(client, {
        keyPrefix: prefix,
        shards: 4,
        claimIdleMs: 1_500,
        retentionHours: 1,
        redeliveryDelayMs: 100,
        trimIntervalMs: 500,
        logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      });
      buses.push(bus);
      return bus;
    },
    async close() {
      for (const bus of buses) await bus.close();
      const [first] = clients;
      if (first) await deletePrefix(first, prefix);
      for (const client of clients) await closeRedis(client);
    },
  });
};

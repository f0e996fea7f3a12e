import type { RedisClient } from './redis/client.js';
import type { Logger } from 'pino';
import { kafkaBrokers, type Config } from './config.js';
import type { EventBus } from './modules/events/bus.js';
import { createInProcessBus } from './modules/events/bus.inprocess.js';
import { createKafkaBus } from './modules/events/bus.kafka.js';
import { createRedisBus } from './modules/events/bus.redis.js';
import { EVENT_TYPES } from './modules/events/events.js';
import { createKafkaQueueLog } from './modules/queue/queue.log.kafka.js';
import type { createRedisQueueStore } from './modules/queue/queue.store.redis.js';
import { createStreamQueueStore, type StreamQueue } from './modules/queue/queue.store.stream.js';

/**
 * The composition root's transports (part of src/container.ts): which event bus EVENT_BUS names,
 * and the Kafka-fed waiting room of QUEUE_BACKEND=stream.
 */

/** QUEUE_BACKEND=stream: the Redis waiting room fed through the Kafka log (docs/decisions/0011). */
export function createStreamQueue(
  config: Config,
  redis: RedisClient,
  options: Parameters<typeof createRedisQueueStore>[1],
  logger: Logger,
): StreamQueue {
  const log = createKafkaQueueLog({
    brokers: kafkaBrokers(config),
    topic: config.QUEUE_STREAM_TOPIC,
    partitions: config.QUEUE_STREAM_PARTITIONS,
    groupId: `overture.queue.${config.REDIS_KEY_PREFIX}`,
    produceTimeoutMs: config.QUEUE_STREAM_PRODUCE_TIMEOUT_MS,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    fetchWaitMs: config.QUEUE_STREAM_FETCH_WAIT_MS,
    logger,
  });
  return createStreamQueueStore(redis, log, {
    ...options,
    applyWaitMs: config.QUEUE_STREAM_APPLY_WAIT_MS,
    logger,
  });
}

/** The bus EVENT_BUS names (docs/decisions/0009-event-buses.md). */
export function createEventBus(
  config: Config,
  redis: RedisClient | undefined,
  logger: Logger,
): EventBus {
  switch (config.EVENT_BUS) {
    case 'inprocess':
      return createInProcessBus();
    case 'redis':
      if (!redis) throw new Error('EVENT_BUS=redis without a Redis client');
      return createRedisBus(redis, {
        keyPrefix: config.REDIS_KEY_PREFIX,
        shards: config.REDIS_STREAM_SHARDS,
        claimIdleMs: config.REDIS_STREAM_CLAIM_IDLE_MS,
        retentionHours: config.REDIS_STREAM_RETENTION_HOURS,
        logger,
      });
    case 'kafka':
      return createKafkaBus({
        brokers: kafkaBrokers(config),
        eventTypes: EVENT_TYPES,
        partitions: config.KAFKA_TOPIC_PARTITIONS,
        publishTimeoutMs: config.KAFKA_PUBLISH_TIMEOUT_MS,
        sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
        logger,
      });
  }
}

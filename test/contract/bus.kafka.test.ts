import { afterAll, beforeAll } from 'vitest';
import pino from 'pino';
import type { EventBus } from '../../src/modules/events/bus.js';
import { createKafkaBus } from '../../src/modules/events/bus.kafka.js';
import { RESERVATION_CONFIRMED } from '../../src/modules/events/events.js';
import {
  describeWithKafka,
  kafkaModule,
  startKafkaMock,
  type KafkaMock,
} from '../support/kafka.js';
import { eventBusContract } from './bus.contract.js';

const PARTITIONS = 6;

describeWithKafka('event bus contract: kafka (over the real protocol, on a mock cluster)', () => {
  let mock: KafkaMock;
  let spaces = 0;
  beforeAll(async () => {
    mock = await startKafkaMock([]);
  });
  afterAll(async () => {
    await mock?.stop();
  });

  eventBusContract({
    durable: true,
    sharesWork: true,
    async space() {
      // Topics of this test's own (the mock has no CreateTopics: its control channel makes them).
      spaces += 1;
      const topicPrefix = `t${spaces}.`;
      await mock.command(`topic ${topicPrefix}${RESERVATION_CONFIRMED}:${PARTITIONS}`);
      const buses: EventBus[] = [];
      return {
        open() {
          const bus = createKafkaBus(
            {
              brokers: mock.brokers.split(','),
              eventTypes: [RESERVATION_CONFIRMED],
              topicPrefix,
              partitions: PARTITIONS,
              publishTimeoutMs: 5_000,
              // The mock makes a member joining a group wait sessionTimeout - 1 s (0008).
              // 6 s rather than 3: a loaded machine can delay heartbeats past 3 s, and the
              // rebalance that follows redelivers (at least once), which the happy path forbids.
              sessionTimeoutMs: 6_000,
              redeliveryDelayMs: 100,
              logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
            },
            kafkaModule,
          );
          buses.push(bus);
          return Promise.resolve(bus);
        },
        async close() {
          for (const bus of buses) await bus.close();
        },
      };
    },
  });
});

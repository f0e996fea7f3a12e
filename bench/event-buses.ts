/**
 * Measures the three event buses behind one port (docs/decisions/0009-event-buses.md): publish
 * latency of a relay batch, and how long one consumer group takes to drain a backlog. The handler
 * does nothing, so this is the bus's own cost (the consumers' database writes come on top).
 *
 *   npx tsx bench/event-buses.ts [--events 5000]
 *
 * Redis: the machine's Redis (TEST_REDIS_URL or 127.0.0.1:6379) under a prefix of its own,
 * deleted after. Kafka: a private tools/kafka-mock cluster (librdkafka's mock: no disk, no
 * replication latency — a floor, not a real broker's numbers).
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { EventBus } from '../src/modules/events/bus.js';
import { createInProcessBus } from '../src/modules/events/bus.inprocess.js';
import { loadKafka } from '../src/kafka/package.js';
import { createKafkaBus } from '../src/modules/events/bus.kafka.js';
import { createRedisBus } from '../src/modules/events/bus.redis.js';
import { RESERVATION_CONFIRMED, type OutboxEvent } from '../src/modules/events/events.js';
import { closeRedis, createRedisClient, redisReady } from '../src/redis/client.js';
import { redisKeys } from '../src/redis/keys.js';
import { startKafkaMock } from '../tools/kafka-mock/mock.js';

const argIndex = process.argv.indexOf('--events');
const EVENTS = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 5_000;
const BATCH = 200; // the relay's batch size
const ROUNDS = 50;
const logger = pino({ level: 'silent' });

let nextId = 0;
const events = (count: number): OutboxEvent[] =>
  Array.from({ length: count }, () => {
    nextId += 1;
    return {
      id: nextId,
      eventId: randomUUID(),
      type: RESERVATION_CONFIRMED,
      key: String(nextId % 50),
      payload: { concertId: nextId % 50 },
      createdAt: new Date().toISOString(),
    };
  });

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;
const ms = (value: number) => `${value.toFixed(1)} ms`;

async function measure(name: string, bus: EventBus): Promise<void> {
  let handled = 0;
  const subscription = await bus.subscribe('bench', () => {
    handled += 1;
    return Promise.resolve();
  });
  const waitFor = async (count: number, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    while (handled < count) {
      if (Date.now() > deadline) throw new Error(`${name}: ${handled}/${count} handled`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  // Warm up: connections, group join (3 s on the Kafka mock).
  await bus.publish(events(10));
  await waitFor(10);

  const single: number[] = [];
  const batch: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let started = performance.now();
    await bus.publish(events(1));
    single.push(performance.now() - started);
    started = performance.now();
    await bus.publish(events(BATCH));
    batch.push(performance.now() - started);
  }
  await waitFor(10 + ROUNDS * (BATCH + 1));

  const base = handled;
  const started = performance.now();
  const backlog = events(EVENTS);
  for (let i = 0; i < backlog.length; i += BATCH) await bus.publish(backlog.slice(i, i + BATCH));
  const published = performance.now() - started;
  await waitFor(base + EVENTS);
  const drained = performance.now() - started;
  await subscription.stop();
  console.log(
    `| ${name} | ${ms(percentile(single, 0.5))} / ${ms(percentile(single, 0.99))} | ` +
      `${ms(percentile(batch, 0.5))} / ${ms(percentile(batch, 0.99))} | ` +
      `${ms(published)} | ${ms(drained)} | ${Math.round(EVENTS / (drained / 1000))} |`,
  );
}

async function main(): Promise<void> {
  console.log(
    `${EVENTS} events drained in batches of ${BATCH}; latencies over ${ROUNDS} publishes each\n`,
  );
  console.log(
    '| bus | publish 1 event p50 / p99 | publish 200 p50 / p99 | publish backlog | drain backlog | events/s |',
  );
  console.log('|---|---|---|---|---|---|');

  const inProcess = createInProcessBus();
  await measure('in-process', inProcess);
  await inProcess.close();

  const redis = createRedisClient({
    url: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    commandTimeoutMs: 5_000,
  });
  if (await redisReady(redis, 2_000)) {
    const prefix = `overture-bench-${process.pid}`;
    const bus = createRedisBus(redis, {
      keyPrefix: prefix,
      shards: 8,
      claimIdleMs: 30_000,
      retentionHours: 1,
      logger,
    });
    try {
      await measure('redis streams (8 shards)', bus);
    } finally {
      await bus.close();
      const keys = await redis.keys(`{${redisKeys(prefix).prefix}:*`);
      if (keys.length > 0) await redis.unlink(...keys);
      await closeRedis(redis);
    }
  } else {
    console.log('| redis streams | Redis not reachable: skipped | | | | |');
    redis.disconnect();
  }

  const kafka = await loadKafka();
  if (!kafka) {
    console.log('| kafka | @confluentinc/kafka-javascript not installed: skipped | | | | |');
    return;
  }
  const mock = await startKafkaMock([`${RESERVATION_CONFIRMED}:6`]);
  const bus = createKafkaBus(
    {
      brokers: mock.brokers.split(','),
      eventTypes: [RESERVATION_CONFIRMED],
      partitions: 6,
      publishTimeoutMs: 10_000,
      sessionTimeoutMs: 3_000,
      logger,
    },
    kafka,
  );
  try {
    await measure('kafka (mock, 3 brokers, 6 partitions)', bus);
  } finally {
    await bus.close();
    await mock.stop();
  }
}

await main();

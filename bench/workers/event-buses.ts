/**
 * The three event buses behind one port (docs/decisions/0009-event-buses.md), in a child process:
 * publish latency of one event and of a relay batch, and how long one consumer group takes to
 * drain a backlog. The handler does nothing, so this is the bus's own cost (the consumers'
 * database writes come on top). Redis: the bench's Redis under a prefix of its own, deleted
 * after. Kafka: a private tools/kafka-mock cluster (no disk, no replication: a floor, not a real
 * broker's numbers).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import type { EventBus } from '../../src/modules/events/bus.js';
import { createInProcessBus } from '../../src/modules/events/bus.inprocess.js';
import { createKafkaBus } from '../../src/modules/events/bus.kafka.js';
import { createRedisBus } from '../../src/modules/events/bus.redis.js';
import { RESERVATION_CONFIRMED, type OutboxEvent } from '../../src/modules/events/events.js';
import { closeRedis, createRedisClient, redisReady } from '../../src/redis/client.js';
import { redisKeys } from '../../src/redis/keys.js';
import { round, summarize } from '../lib/stats.js';
import { serveJob, withKafkaMock } from '../lib/workers.js';
import type { EventBusResult } from '../scenarios/event-buses.js';

export interface EventBusJob {
  redisUrl: string;
  events: number;
  rounds: number;
  /** Events per publish, as the outbox relay sends them. */
  batch: number;
}

export interface EventBusRun {
  results: EventBusResult[];
  skipped: { bus: string; reason: string }[];
}

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

async function measure(job: EventBusJob, name: string, bus: EventBus): Promise<EventBusResult> {
  let handled = 0;
  const subscription = await bus.subscribe('bench', () => {
    handled += 1;
    return Promise.resolve();
  });
  const waitFor = async (count: number, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    while (handled < count) {
      if (Date.now() > deadline) throw new Error(`${name}: ${handled}/${count} handled`);
      await sleep(2);
    }
  };
  // Warm up: connections, group join (3 s on the Kafka mock).
  await bus.publish(events(10));
  await waitFor(10);

  const publishOne: number[] = [];
  const publishBatch: number[] = [];
  for (let round = 0; round < job.rounds; round++) {
    let started = performance.now();
    await bus.publish(events(1));
    publishOne.push(performance.now() - started);
    started = performance.now();
    await bus.publish(events(job.batch));
    publishBatch.push(performance.now() - started);
  }
  await waitFor(10 + job.rounds * (job.batch + 1));

  const base = handled;
  const started = performance.now();
  const backlog = events(job.events);
  for (let i = 0; i < backlog.length; i += job.batch)
    await bus.publish(backlog.slice(i, i + job.batch));
  const publishBacklogMs = performance.now() - started;
  await waitFor(base + job.events);
  const drainBacklogMs = performance.now() - started;
  await subscription.stop();
  return {
    kind: 'event-buses',
    target: name,
    events: job.events,
    rounds: job.rounds,
    batch: job.batch,
    publishOne: summarize(publishOne),
    publishBatch: summarize(publishBatch),
    publishBacklogMs: round(publishBacklogMs, 1),
    drainBacklogMs: round(drainBacklogMs, 1),
    eventsPerSecond: Math.round(job.events / (drainBacklogMs / 1000)),
  };
}

async function run(job: EventBusJob, report: (text: string) => void): Promise<EventBusRun> {
  const result: EventBusRun = { results: [], skipped: [] };
  const done = (item: EventBusResult) => {
    result.results.push(item);
    report(`${item.target}: drained ${job.events} in ${item.drainBacklogMs.toFixed(0)} ms`);
  };

  const inProcess = createInProcessBus();
  done(await measure(job, 'in-process', inProcess));
  await inProcess.close();

  const redis = createRedisClient({ url: job.redisUrl, commandTimeoutMs: 5_000 });
  if (await redisReady(redis, 2_000)) {
    const prefix = `overture-bench-${process.pid}`;
    const shards = 8;
    const options = { keyPrefix: prefix, shards, claimIdleMs: 30_000, retentionHours: 1, logger };
    const bus = createRedisBus(redis, options);
    try {
      done(await measure(job, `redis streams (${shards} shards)`, bus));
    } finally {
      await bus.close();
      const keys = await redis.keys(`{${redisKeys(prefix).prefix}:*`);
      if (keys.length > 0) await redis.unlink(...keys);
      await closeRedis(redis);
    }
  } else {
    result.skipped.push({ bus: 'redis streams', reason: 'Redis not reachable' });
    redis.disconnect();
  }

  const kafkaMissing = await withKafkaMock(
    [`${RESERVATION_CONFIRMED}:6`],
    async (kafka, brokers) => {
      const bus = createKafkaBus(
        {
          brokers,
          eventTypes: [RESERVATION_CONFIRMED],
          partitions: 6,
          publishTimeoutMs: 10_000,
          sessionTimeoutMs: 3_000,
          logger,
        },
        kafka,
      );
      try {
        done(await measure(job, 'kafka (mock, 3 brokers, 6 partitions)', bus));
      } finally {
        await bus.close();
      }
    },
  );
  if (kafkaMissing !== '') result.skipped.push({ bus: 'kafka', reason: kafkaMissing });
  return result;
}

serveJob(run);

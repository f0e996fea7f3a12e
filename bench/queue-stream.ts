/**
 * Measures joining the waiting room on QUEUE_BACKEND=redis against QUEUE_BACKEND=stream
 * (docs/decisions/0011-kafka-queue-mode.md), at the store: how long a join takes to answer, how
 * long until its token has its real place (on the stream backend: placed from the log), and how
 * many joins per second one process gets through in a burst, and how often a join sent right
 * after another one answered still ends up ahead of it (the order across partitions).
 *
 *   npx tsx bench/queue-stream.ts [--joins 200] [--burst 2000]
 *
 * Redis: the machine's Redis (TEST_REDIS_URL or 127.0.0.1:6379) under prefixes of its own,
 * deleted after. Kafka: a private tools/kafka-mock cluster with 3 brokers (librdkafka's mock: no
 * disk, no replication latency — a floor, not a real broker's numbers).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { loadKafka } from '../src/kafka/package.js';
import { createKafkaQueueLog } from '../src/modules/queue/queue.log.kafka.js';
import { createRedisQueueStore } from '../src/modules/queue/queue.store.redis.js';
import {
  createStreamQueueStore,
  type StreamQueue,
} from '../src/modules/queue/queue.store.stream.js';
import type { QueueStore } from '../src/modules/queue/queue.store.js';
import { closeRedis, createRedisClient, redisReady } from '../src/redis/client.js';
import { queueKeyOrder, redisKeys } from '../src/redis/keys.js';
import { startKafkaMock } from '../tools/kafka-mock/mock.js';

const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const JOINS = arg('joins', 200);
const BURST = arg('burst', 2_000);
const logger = pino({ level: 'silent' });
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const queueOptions = { maxActive: 50, activeTtlSeconds: 300, idleSeconds: 1_800 };

/** Every key a room of `prefix` writes. */
const roomKeys = (prefix: string): string[] => {
  const queue = redisKeys(prefix).queue;
  return [...queueKeyOrder.map((name) => queue[name]), queue.unlogged];
};

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;
const ms = (value: number) => `${value.toFixed(1)} ms`;

interface Mode {
  name: string;
  store: QueueStore;
  /** Resolves when `token` has its real place (at once on the Redis backend). */
  placed(token: string): Promise<number>;
  /** The arrival numbers (place in the line's order) of placed tokens. */
  arrivals(tokens: string[]): Promise<number[]>;
  close(): Promise<void>;
}

/** Reads the arrival numbers (field q of each token's state) of one room. */
const arrivalsIn =
  (client: Redis, prefix: string) =>
  async (tokens: string[]): Promise<number[]> => {
    const states = await client.hmget(redisKeys(prefix).queue.tokens, ...tokens);
    return states.map((state) => (JSON.parse(state ?? '{}') as { q?: number }).q ?? NaN);
  };

/** Watches the stream backend's placement channel: when each token got its place. */
async function placements(client: Redis, prefix: string) {
  const subscriber = client.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
  const seen = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  subscriber.on('message', (_channel: string, message: string) => {
    const at = performance.now();
    for (const [token] of JSON.parse(message) as [string][]) {
      seen.set(token, at);
      waiting.get(token)?.(at);
    }
  });
  await subscriber.subscribe(redisKeys(prefix).queue.applied);
  return {
    placed: (token: string) =>
      new Promise<number>((resolve) => {
        const at = seen.get(token);
        if (at !== undefined) resolve(at);
        else waiting.set(token, resolve);
      }),
    close: () => subscriber.disconnect(),
  };
}

async function redisMode(): Promise<Mode> {
  const client = createRedisClient({ url: redisUrl, commandTimeoutMs: 10_000 });
  await redisReady(client, 5_000);
  const prefix = `overture-bench-${randomBytes(4).toString('hex')}`;
  return {
    name: 'redis',
    store: createRedisQueueStore(client, { ...queueOptions, keyPrefix: prefix }),
    placed: () => Promise.resolve(performance.now()),
    arrivals: arrivalsIn(client, prefix),
    async close() {
      await client.del(...roomKeys(prefix));
      await closeRedis(client);
    },
  };
}

async function streamMode(
  brokers: string[],
  topic: string,
  partitions: number,
  applyWaitMs: number,
): Promise<Mode> {
  const client = createRedisClient({ url: redisUrl, commandTimeoutMs: 10_000 });
  await redisReady(client, 5_000);
  const prefix = `overture-bench-${randomBytes(4).toString('hex')}`;
  const kafka = await loadKafka();
  if (!kafka) throw new Error('@confluentinc/kafka-javascript is not installed');
  const log = createKafkaQueueLog(
    {
      brokers,
      topic,
      partitions,
      groupId: `bench.${prefix}`,
      produceTimeoutMs: 10_000,
      sessionTimeoutMs: 10_000,
      fetchWaitMs: 10,
      logger,
    },
    kafka,
  );
  const queue: StreamQueue = createStreamQueueStore(client, log, {
    ...queueOptions,
    keyPrefix: prefix,
    applyWaitMs,
    logger,
  });
  const watch = await placements(client, prefix);
  await queue.worker.start();
  const deadline = Date.now() + 30_000;
  while (queue.worker.assignment().length < partitions) {
    if (Date.now() > deadline) throw new Error('the consumer group did not form');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    name: `stream, ${partitions} partition${partitions > 1 ? 's' : ''}, ${applyWaitMs === 0 ? 'no wait' : `wait ≤ ${applyWaitMs} ms`}`,
    store: queue.store,
    placed: watch.placed,
    arrivals: arrivalsIn(client, prefix),
    async close() {
      await queue.worker.stop();
      watch.close();
      await client.del(...roomKeys(prefix));
      await closeRedis(client);
    },
  };
}

async function measure(mode: Mode): Promise<string> {
  let user = 1;
  // Warm-up: connections, scripts, the producer.
  for (let i = 0; i < 20; i++) await mode.placed((await mode.store.enter(user++)).token);

  const answered: number[] = [];
  const visible: number[] = [];
  for (let i = 0; i < JOINS; i++) {
    const t0 = performance.now();
    const view = await mode.store.enter(user++);
    answered.push(performance.now() - t0);
    visible.push((await mode.placed(view.token)) - t0);
  }

  // Joins one after another, each sent as soon as the previous one answered: how many were
  // placed ahead of a join that had already been answered?
  const chain: string[] = [];
  for (let i = 0; i < JOINS; i++) chain.push((await mode.store.enter(user++)).token);
  await Promise.all(chain.map((token) => mode.placed(token)));
  const arrivals = await mode.arrivals(chain);
  let overtaken = 0;
  let latestArrival = -Infinity;
  for (const arrival of arrivals) {
    if (arrival < latestArrival) overtaken += 1;
    latestArrival = Math.max(latestArrival, arrival);
  }

  const t0 = performance.now();
  const burstAnswered: number[] = [];
  const views = await Promise.all(
    Array.from({ length: BURST }, async () => {
      const start = performance.now();
      const view = await mode.store.enter(user++);
      burstAnswered.push(performance.now() - start);
      return view;
    }),
  );
  const allAnswered = performance.now() - t0;
  const placedAt = await Promise.all(views.map((view) => mode.placed(view.token)));
  const allPlaced = Math.max(...placedAt) - t0;
  await mode.close();
  return [
    mode.name,
    `${ms(percentile(answered, 0.5))} / ${ms(percentile(answered, 0.99))}`,
    `${ms(percentile(visible, 0.5))} / ${ms(percentile(visible, 0.99))}`,
    `${ms(percentile(burstAnswered, 0.5))} / ${ms(percentile(burstAnswered, 0.99))}`,
    `${allAnswered.toFixed(0)} ms / ${allPlaced.toFixed(0)} ms`,
    `${Math.round(BURST / (Math.max(allAnswered, allPlaced) / 1000))}`,
    `${overtaken} of ${JOINS}`,
  ].join(' | ');
}

const mock = await startKafkaMock(['bench.q6:6', 'bench.q1:1']);
const brokers = mock.brokers.split(',');
try {
  const rows = [
    await measure(await redisMode()),
    await measure(await streamMode(brokers, 'bench.q6', 6, 1_000)),
    await measure(await streamMode(brokers, 'bench.q6', 6, 0)),
    await measure(await streamMode(brokers, 'bench.q1', 1, 1_000)),
    await measure(await streamMode(brokers, 'bench.q1', 1, 0)),
  ];
  console.log(
    `\n${JOINS} joins one after another, then ${BURST} at once (one process, one consumer member)\n`,
  );
  console.log(
    '| backend | join answered p50 / p99 | real place after p50 / p99 | burst: join answered p50 / p99 | burst: all answered / all placed | burst joins/s | back-to-back joins placed behind a later one |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(`| ${row} |`);
} finally {
  await mock.stop();
}
process.exit(0);

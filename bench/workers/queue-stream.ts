/**
 * Joining the waiting room at the store, QUEUE_BACKEND=redis against QUEUE_BACKEND=stream
 * (docs/decisions/0011), in a child process: how long a join takes to answer, how long until its
 * token has its real place (on the stream backend: placed from the log), how many joins per
 * second one process gets through in a burst, and how often a join sent right after another one
 * answered still ends up ahead of it (the order across partitions). Redis: the bench's Redis
 * under prefixes of its own, deleted after. Kafka: a private tools/kafka-mock cluster.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { createKafkaQueueLog } from '../../src/modules/queue/queue.log.kafka.js';
import { createRedisQueueStore } from '../../src/modules/queue/queue.store.redis.js';
import { createStreamQueueStore } from '../../src/modules/queue/queue.store.stream.js';
import type { QueueStore } from '../../src/modules/queue/queue.store.js';
import {
  closeRedis,
  createRedisClient,
  redisReady,
  duplicateRedis,
  type RedisClient,
} from '../../src/redis/client.js';
import { queueKeyOrder, redisKeys } from '../../src/redis/keys.js';
import { round, summarize } from '../lib/stats.js';
import { serveJob, withKafkaMock } from '../lib/workers.js';
import type { QueueStreamResult } from '../scenarios/queue-stream.js';

export interface QueueStreamJob {
  redisUrl: string;
  joins: number;
  burst: number;
}

export interface QueueStreamRun {
  results: QueueStreamResult[];
  /** Why the stream backend was not measured ('' when it was). */
  streamMissing: string;
}

const logger = pino({ level: 'silent' });
const queueOptions = { maxActive: 50, activeTtlSeconds: 300, idleSeconds: 1_800 };

interface Backend {
  name: string;
  store: QueueStore;
  /** Resolves when `token` has its real place (at once on the Redis backend). */
  placed(token: string): Promise<number>;
  close(): Promise<void>;
}

/** A Redis client and a fresh key prefix for one room; `close` deletes every key it wrote. */
async function room(job: QueueStreamJob) {
  const client = createRedisClient({ url: job.redisUrl, commandTimeoutMs: 10_000 });
  await redisReady(client, 5_000);
  const prefix = `overture-bench-${randomBytes(4).toString('hex')}`;
  const keys = redisKeys(prefix).queue;
  return {
    client,
    prefix,
    /** The arrival numbers (field q of each token's state): the tokens' places in the line. */
    arrivals: async (tokens: string[]): Promise<number[]> => {
      const states = await client.hmget(keys.tokens, ...tokens);
      return states.map((state) => (JSON.parse(state ?? '{}') as { q?: number }).q ?? NaN);
    },
    close: async () => {
      await client.del(...queueKeyOrder.map((name) => keys[name]), keys.unlogged);
      await closeRedis(client);
    },
  };
}

/** Watches the stream backend's placement channel: when each token got its place. */
async function placements(client: RedisClient, prefix: string) {
  const subscriber = duplicateRedis(client, {
    enableOfflineQueue: true,
    commandTimeout: undefined,
  });
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

async function measure(
  backend: Backend,
  arrivals: (tokens: string[]) => Promise<number[]>,
  job: QueueStreamJob,
): Promise<QueueStreamResult> {
  const { store } = backend;
  let user = 1;
  // Warm-up: connections, scripts, the producer.
  for (let i = 0; i < 20; i++) await backend.placed((await store.join(user++)).token);

  const answered: number[] = [];
  const placed: number[] = [];
  for (let i = 0; i < job.joins; i++) {
    const t0 = performance.now();
    const view = await store.join(user++);
    answered.push(performance.now() - t0);
    placed.push((await backend.placed(view.token)) - t0);
  }

  // Joins one after another, each sent as soon as the previous one answered: how many were
  // placed ahead of a join that had already been answered?
  const chain: string[] = [];
  for (let i = 0; i < job.joins; i++) chain.push((await store.join(user++)).token);
  await Promise.all(chain.map((token) => backend.placed(token)));
  let overtaken = 0;
  let latestArrival = -Infinity;
  for (const arrival of await arrivals(chain)) {
    if (arrival < latestArrival) overtaken += 1;
    latestArrival = Math.max(latestArrival, arrival);
  }

  const t0 = performance.now();
  const burstAnswered: number[] = [];
  const views = await Promise.all(
    Array.from({ length: job.burst }, async () => {
      const start = performance.now();
      const view = await store.join(user++);
      burstAnswered.push(performance.now() - start);
      return view;
    }),
  );
  const allAnswered = performance.now() - t0;
  const placedAt = await Promise.all(views.map((view) => backend.placed(view.token)));
  const allPlaced = Math.max(...placedAt) - t0;
  await backend.close();
  return {
    kind: 'queue-stream',
    target: backend.name,
    joins: job.joins,
    burst: job.burst,
    answered: summarize(answered),
    placed: summarize(placed),
    burstAnswered: summarize(burstAnswered),
    burstAllAnsweredMs: round(allAnswered, 1),
    burstAllPlacedMs: round(allPlaced, 1),
    burstJoinsPerSecond: Math.round(job.burst / (Math.max(allAnswered, allPlaced) / 1000)),
    overtaken,
  };
}

async function run(job: QueueStreamJob, report: (text: string) => void): Promise<QueueStreamRun> {
  const results: QueueStreamResult[] = [];
  const done = (item: QueueStreamResult) => {
    results.push(item);
    report(
      `${item.target}: ${job.burst} joins answered in ${item.burstAllAnsweredMs.toFixed(0)} ms`,
    );
  };
  const redis = await room(job);
  const redisStore = createRedisQueueStore(redis.client, {
    ...queueOptions,
    keyPrefix: redis.prefix,
  });
  const placedNow = () => Promise.resolve(performance.now());
  done(
    await measure(
      { name: 'redis', store: redisStore, placed: placedNow, close: redis.close },
      redis.arrivals,
      job,
    ),
  );

  const streamMissing = await withKafkaMock(
    ['bench.q6:6', 'bench.q1:1'],
    async (kafka, brokers) => {
      for (const [topic, partitions, applyWaitMs] of [
        ['bench.q6', 6, 1_000],
        ['bench.q6', 6, 0],
        ['bench.q1', 1, 1_000],
        ['bench.q1', 1, 0],
      ] as const) {
        const stream = await room(job);
        const log = createKafkaQueueLog(
          {
            brokers,
            topic,
            partitions,
            groupId: `bench.${stream.prefix}`,
            produceTimeoutMs: 10_000,
            sessionTimeoutMs: 10_000,
            fetchWaitMs: 10,
            logger,
          },
          kafka,
        );
        const queue = createStreamQueueStore(stream.client, log, {
          ...queueOptions,
          keyPrefix: stream.prefix,
          applyWaitMs,
          logger,
        });
        const watch = await placements(stream.client, stream.prefix);
        await queue.worker.start();
        const deadline = Date.now() + 30_000;
        while (queue.worker.assignment().length < partitions) {
          if (Date.now() > deadline) throw new Error('the consumer group did not form');
          await sleep(50);
        }
        const name = `stream, ${partitions} partition${partitions > 1 ? 's' : ''}, ${applyWaitMs === 0 ? 'no wait' : `wait ≤ ${applyWaitMs} ms`}`;
        const close = async () => {
          await queue.worker.stop();
          watch.close();
          await stream.close();
        };
        done(
          await measure(
            { name, store: queue.store, placed: watch.placed, close },
            stream.arrivals,
            job,
          ),
        );
      }
    },
  );
  return { results, streamMissing };
}

serveJob(run);

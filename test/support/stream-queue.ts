import type { RedisClient } from '../../src/redis/client.js';
import pino from 'pino';
import { createKafkaQueueLog, type QueueLog } from '../../src/modules/queue/queue.log.kafka.js';
import {
  createStreamQueueStore,
  type StreamQueue,
  type StreamQueueOptions,
} from '../../src/modules/queue/queue.store.stream.js';
import { kafkaModule, type KafkaMock } from './kafka.js';
import { closeRedis, connectTestRedis, deletePrefix, testKeyPrefix, travelRedis } from './redis.js';

export const STREAM_PARTITIONS = 6;

/**
 * The mock makes a member joining a group that has members wait sessionTimeout - 1 s (0008);
 * 4 s keeps that short while a loaded machine's late heartbeat still rarely costs a rebalance
 * (which would only re-apply entries: applying is idempotent).
 */
const SESSION_TIMEOUT_MS = 4_000;

export type StreamRoomOptions = Omit<StreamQueueOptions, 'keyPrefix' | 'logger' | 'testClock'> & {
  /** Partitions of the room's topic (default STREAM_PARTITIONS). */
  partitions?: number;
  /** The log's produce timeout (default 5 s). */
  produceTimeoutMs?: number;
};

export interface StreamInstance {
  queue: StreamQueue;
  /** Whether it joined the consumer group (instances opened with member: false only append). */
  member: boolean;
  client: RedisClient;
  log: QueueLog;
  /** Stops this instance's worker (leaves the group) and closes its Redis connection. */
  stop(): Promise<void>;
}

/** One waiting room on the stream backend: its own Redis prefix, topic and consumer group. */
export interface StreamRoom {
  prefix: string;
  topic: string;
  instances: StreamInstance[];
  /**
   * A new instance (store, log, group member), started; `settle` (default: when a member) waits
   * for the group to share the partitions with it. `member: false` never joins the group (nothing is
   * placed through it: a member not joined yet, or a stalled one); `log` wraps its log.
   */
  open(options?: {
    settle?: boolean;
    member?: boolean;
    log?: (log: QueueLog) => QueueLog;
  }): Promise<StreamInstance>;
  /** Resolves once the live members together read every partition, each member at least one. */
  settled(): Promise<void>;
  travel(seconds: number): Promise<void>;
  close(): Promise<void>;
}

type Apply = Parameters<QueueLog['consume']>[0];

/**
 * A topic and a consumer group that already formed, for the next room's first instance: the
 * mock holds every new group's first join for 3 s (0008), which would otherwise be most of the
 * time of each contract case. Its log takes its apply function when a store starts it.
 */
interface Spare {
  topic: string;
  groupId: string;
  log: QueueLog;
}

/** Spares forming, oldest first, per mock. */
const spares = new WeakMap<KafkaMock, Promise<Spare>[]>();
/** Spares kept forming ahead: each has about that many contract cases' time to finish its 3 s join. */
const SPARES_AHEAD = 6;
let topics = 0;

const logOptions = (
  mock: KafkaMock,
  topic: string,
  groupId: string,
  partitions: number,
  produceTimeoutMs = 5_000,
) => ({
  brokers: mock.brokers.split(','),
  topic,
  partitions,
  groupId,
  produceTimeoutMs,
  sessionTimeoutMs: SESSION_TIMEOUT_MS,
  fetchWaitMs: 10,
  redeliveryDelayMs: 100,
  logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
});

async function newTopic(mock: KafkaMock, partitions: number): Promise<string> {
  topics += 1;
  const topic = `queue.entries.${process.pid}.${topics}`;
  await mock.command(`topic ${topic}:${partitions}`);
  return topic;
}

async function prepareSpare(mock: KafkaMock): Promise<Spare> {
  const topic = await newTopic(mock, STREAM_PARTITIONS);
  const groupId = `overture.queue.${topic}`;
  const inner = createKafkaQueueLog(
    logOptions(mock, topic, groupId, STREAM_PARTITIONS),
    kafkaModule,
  );
  let target: Apply | undefined;
  // Nothing is appended before a store takes the log; if it were, it would come again.
  inner.consume((entries, partition) =>
    target ? target(entries, partition) : Promise.reject(new Error('no store yet')),
  );
  return {
    topic,
    groupId,
    log: {
      append: (entry) => inner.append(entry),
      consume(apply) {
        target = apply;
      },
      assignment: () => inner.assignment(),
      readiness: () => inner.readiness(),
      close: () => inner.close(),
    },
  };
}

/** The oldest spare of `mock`, keeping SPARES_AHEAD more forming in the background. */
function takeSpare(mock: KafkaMock): Promise<Spare> {
  const forming = spares.get(mock) ?? [];
  spares.set(mock, forming);
  while (forming.length <= SPARES_AHEAD) {
    const next = prepareSpare(mock);
    next.catch(() => undefined);
    forming.push(next);
  }
  return forming.shift()!;
}

/** A room on `mock` (its topic is created there) with the store options of every instance. */
export async function openStreamRoom(
  mock: KafkaMock,
  options: StreamRoomOptions,
): Promise<StreamRoom> {
  const prefix = testKeyPrefix();
  const partitions = options.partitions ?? STREAM_PARTITIONS;
  const plain = partitions === STREAM_PARTITIONS && options.produceTimeoutMs === undefined;
  let spare = plain ? await takeSpare(mock) : undefined;
  const topic = spare?.topic ?? (await newTopic(mock, partitions));
  const groupId = spare?.groupId ?? `overture.queue.${topic}`;
  const instances: StreamInstance[] = [];
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

  const settled = async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const live = instances.filter((instance) => instance.member);
      const held = live.map((instance) => instance.queue.worker.assignment());
      const covered = new Set(held.flat());
      const everyoneHasOne = held.every((partitionsHeld) => partitionsHeld.length > 0);
      if (covered.size === partitions && (everyoneHasOne || live.length > partitions)) return;
      if (Date.now() > deadline)
        throw new Error(`the group did not settle: ${JSON.stringify(held)} of ${partitions}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const room: StreamRoom = {
    prefix,
    topic,
    instances,
    async open({ member = true, settle = member, log: wrap } = {}) {
      const client = await connectTestRedis();
      const kafkaLog =
        spare?.log ??
        createKafkaQueueLog(
          logOptions(mock, topic, groupId, partitions, options.produceTimeoutMs),
          kafkaModule,
        );
      spare = undefined;
      const wrapped = wrap ? wrap(kafkaLog) : kafkaLog;
      const log = member ? wrapped : { ...wrapped, consume: () => undefined };
      const queue = createStreamQueueStore(client, log, {
        ...options,
        keyPrefix: prefix,
        testClock: true,
        logger,
      });
      await queue.worker.start();
      const instance: StreamInstance = {
        queue,
        member,
        client,
        log,
        async stop() {
          const index = instances.indexOf(instance);
          if (index >= 0) instances.splice(index, 1);
          await queue.worker.stop();
          await closeRedis(client);
        },
      };
      instances.push(instance);
      if (settle) await settled();
      return instance;
    },
    settled,
    travel: async (seconds) => {
      const [first] = instances;
      if (!first) throw new Error('no instance to travel with');
      await travelRedis(first.client, prefix, seconds);
    },
    async close() {
      const cleaner = await connectTestRedis();
      try {
        await Promise.all([...instances].map((instance) => instance.stop()));
        await deletePrefix(cleaner, prefix);
      } finally {
        await closeRedis(cleaner);
      }
    },
  };
  return room;
}

/** Leaves the spare groups of `mock` (call before stopping the mock). */
export async function closeSpares(mock: KafkaMock): Promise<void> {
  const forming = spares.get(mock) ?? [];
  spares.delete(mock);
  await Promise.all(
    forming.map(async (spare) => {
      const ready = await spare.catch(() => undefined);
      await ready?.log.close();
    }),
  );
}

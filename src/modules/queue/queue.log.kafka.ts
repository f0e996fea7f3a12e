import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { createKafkaClient, lazily } from '../../kafka/client.js';
import { joinGroup, joinInBackground } from '../../kafka/consumer.js';
import type { KafkaConsumedMessage, KafkaConsumer, KafkaModule } from '../../kafka/package.js';
import { lazyProducer } from '../../kafka/producer.js';
import { createMissingTopics } from '../../kafka/topics.js';
import { roomOfToken } from '../../shared/ids.js';
import { pause } from '../../shared/pause.js';
import type { NotReady } from '../../shared/readiness.js';

/** One request to join the line, as the log carries it. */
export interface QueueEntry {
  /** The waiting room (Redis key prefix) the entry belongs to: rooms may share a topic. */
  room: string;
  token: string;
  userId: number;
}

/**
 * The queue's log: joins are appended, and one member of a consumer group per instance applies
 * them, each partition in log order.
 */
export interface QueueLog {
  /**
   * Appends one entry, or a batch of one room kept in its order (one partition: a pre-queue's
   * move); resolves once every in-sync replica has it, rejects after the produce timeout.
   */
  append(entry: QueueEntry | QueueEntry[]): Promise<void>;
  /**
   * Joins the group in the background (retrying while the brokers are away). `apply` gets a
   * partition's entries in log order, many at a time; when it throws, the same entries come again
   * after a pause and nothing behind them in that partition passes them.
   */
  consume(apply: (entries: QueueEntry[], partition: number) => Promise<void>): void;
  /** The partitions this member reads now (none before it joined, or while a rebalance runs). */
  assignment(): number[];
  /**
   * Why joins cannot go through the log yet: the producer not connected, the member not assigned
   * its partitions, or behind the end of one of them. Empty once it got there (a start-up gate).
   */
  readiness(): NotReady[];
  /** Leaves the group (after the batch in hand) and closes the producer. */
  close(): Promise<void>;
}

export interface KafkaQueueLogOptions {
  brokers: string[];
  topic: string;
  /** Partitions of the topic when this log creates it (an existing topic keeps its own). */
  partitions: number;
  /** The consumer group: one per waiting room. */
  groupId: string;
  /** An append not acknowledged by every in-sync replica after this long fails (the join answers 503). */
  produceTimeoutMs: number;
  /** A member silent this long leaves the group and its partitions move. */
  sessionTimeoutMs: number;
  /**
   * Longest time a fetch waits at the broker for new entries. A real broker answers as soon as
   * an entry arrives; librdkafka's mock waits the whole time, so this bounds the apply delay there.
   */
  fetchWaitMs: number;
  /** Most entries handed to `apply` at once (one Redis script per batch). */
  maxBatch?: number;
  /** Pause before a batch whose apply threw comes again (default 500 ms). */
  redeliveryDelayMs?: number;
  clientId?: string;
  logger: Logger;
}

const DEFAULT_MAX_BATCH = 256;

/** An entry as the log stores it: JSON, keyed by the user id (one user's entries stay in order). */
export function encodeEntry(entry: QueueEntry): { key: string; value: string } {
  return { key: String(entry.userId), value: JSON.stringify(entry) };
}

export function decodeEntry(value: string | undefined): QueueEntry | undefined {
  if (value === undefined) return undefined;
  try {
    const entry = JSON.parse(value) as Partial<QueueEntry>;
    if (
      typeof entry.room === 'string' &&
      typeof entry.token === 'string' &&
      typeof entry.userId === 'number' &&
      Number.isSafeInteger(entry.userId)
    )
      return { room: entry.room, token: entry.token, userId: entry.userId };
  } catch {
    // Not JSON: reported by the caller.
  }
  return undefined;
}

/**
 * The queue log on Kafka through @confluentinc/kafka-javascript: topic `queue.entries` (by
 * default) keyed by user id, an idempotent producer with acks=all (its retries neither duplicate
 * nor reorder), and a consumer group whose members split the partitions; offsets are stored after
 * a batch is applied and committed every second, so a crash re-applies at most about a second of
 * entries (applying is idempotent). See docs/decisions/0011-kafka-queue-mode.md.
 */
export function createKafkaQueueLog(
  options: KafkaQueueLogOptions,
  kafkaModule?: KafkaModule,
): QueueLog {
  const { logger, topic } = options;
  const clientId = options.clientId ?? `overture-queue-${hostname()}-${process.pid}`;
  const redeliveryDelayMs = options.redeliveryDelayMs ?? 500;
  const stopping = new AbortController();
  const stopped = () => stopping.signal.aborted;
  let consumer: KafkaConsumer | undefined;
  /** The member's partitions since its last assignment; undefined before the first one. */
  let assigned: number[] | undefined;
  /** Partitions known to hold entries beyond what was applied (from each batch's high watermark). */
  const behind = new Set<number>();
  /** Set once the log was usable: the gate stays open after that. */
  let wasReady = false;

  const kafka = lazily(() =>
    createKafkaClient(
      { brokers: options.brokers, clientId, logger, neededBy: 'QUEUE_BACKEND=stream' },
      kafkaModule,
    ),
  );

  let topicReady: Promise<void> | undefined;
  const ensureTopic = () =>
    (topicReady ??= (async () =>
      createMissingTopics(await kafka.get(), [topic], options.partitions, logger))());

  const producer = lazyProducer({
    client: kafka.get,
    prepare: ensureTopic,
    // Joins arriving together share a produce request; one alone waits at most 1 ms.
    lingerMs: 1,
    timeoutMs: options.produceTimeoutMs,
  });

  const decodeBatch = (partition: number, messages: KafkaConsumedMessage[]): QueueEntry[] => {
    const entries: QueueEntry[] = [];
    for (const message of messages) {
      const entry = decodeEntry(message.value?.toString('utf8'));
      if (entry) entries.push(entry);
      else
        logger.error(
          { topic, partition, offset: message.offset },
          'queue log message is not an entry; skipped',
        );
    }
    return entries;
  };

  return {
    readiness() {
      if (wasReady) return [];
      const problems: NotReady[] = [];
      const component = `queue log ${topic}`;
      if (!producer.connected()) {
        producer.warm();
        problems.push({
          reason: 'kafka-producer',
          component,
          message: 'The queue log producer has not connected yet.',
        });
      }
      if (assigned === undefined)
        problems.push({
          reason: 'kafka-queue-log',
          component,
          message: `The consumer group ${options.groupId} has not assigned this member its partitions yet.`,
        });
      else if (behind.size > 0)
        problems.push({
          reason: 'kafka-queue-log',
          component,
          message: `Still applying the entries the log held at start (partitions ${[...behind].join(', ')}).`,
        });
      wasReady = problems.length === 0;
      return problems;
    },

    async append(entry) {
      // A batch shares its room's key: one partition, read back in the batch's order.
      const messages = Array.isArray(entry)
        ? entry.map((one) => ({ ...encodeEntry(one), key: `room:${roomOfToken(one.token)}` }))
        : [encodeEntry(entry)];
      // A join waits no longer than an append may.
      await producer.sendBatch([{ topic, messages }]);
    },

    consume(apply) {
      const join = async (): Promise<void> => {
        await ensureTopic();
        consumer = await joinGroup(await kafka.get(), {
          groupId: options.groupId,
          topics: [topic],
          sessionTimeoutMs: options.sessionTimeoutMs,
          // A new group reads what the topic still holds (joinGroup): entries from before it are
          // skipped by the apply (no pending join), entries made while it formed are not lost.
          kafkaJS: { maxWaitTimeInMs: options.fetchWaitMs },
          onAssigned: (assignment) => {
            assigned = assignment
              .filter((part) => part.topic === topic)
              .map((part) => part.partition);
          },
          config: { 'js.consumer.max.batch.size': options.maxBatch ?? DEFAULT_MAX_BATCH },
          run: {
            partitionsConsumedConcurrently: options.partitions,
            eachBatch: async ({ batch }) => {
              const last = batch.messages.at(-1);
              const caughtUp = !last || Number(last.offset) + 1 >= Number(batch.highWatermark);
              const entries = decodeBatch(batch.partition, batch.messages);
              if (entries.length === 0) {
                if (caughtUp) behind.delete(batch.partition);
                return;
              }
              try {
                await apply(entries, batch.partition);
              } catch (error) {
                logger.warn(
                  { err: error, topic, partition: batch.partition, entries: entries.length },
                  'queue entries could not be applied; they will come again',
                );
                await pause(redeliveryDelayMs, stopping.signal);
                // The client seeks back to the batch's first entry: it comes again, in order.
                throw error;
              }
              if (caughtUp) behind.delete(batch.partition);
              else behind.add(batch.partition);
            },
          },
          stopped,
        });
      };

      // Connected before the first join needs it: a join answered 503 on a fresh start otherwise.
      producer.warm();
      // Without Kafka the service still starts, and places and admits what Redis holds.
      joinInBackground(join, { signal: stopping.signal, logger, group: options.groupId });
    },

    assignment() {
      if (!consumer) return [];
      try {
        return consumer
          .assignment()
          .filter((assigned) => assigned.topic === topic)
          .map((assigned) => assigned.partition)
          .sort((a, b) => a - b);
      } catch {
        return [];
      }
    },

    async close() {
      stopping.abort();
      const member = consumer;
      consumer = undefined;
      // Waits for the batch in hand, then commits the stored offsets and leaves the group.
      await member?.disconnect();
      await producer.close();
    },
  };
}

import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { createKafkaClient, lazily } from '../../kafka/client.js';
import { joinGroup, joinInBackground } from '../../kafka/consumer.js';
import type {
  KafkaConsumedMessage,
  KafkaConsumer,
  KafkaMessage,
  KafkaModule,
} from '../../kafka/package.js';
import { lazyProducer } from '../../kafka/producer.js';
import { createMissingTopics } from '../../kafka/topics.js';
import { pause } from '../../shared/pause.js';
import type { NotReady } from '../../shared/readiness.js';
import { traceHeaders } from '../../shared/tracing.js';
import type { EventBus, Subscription } from './bus.js';
import { decodeEvent } from './bus.shared.js';
import type { OutboxEvent } from './events.js';

export interface KafkaBusOptions {
  brokers: string[];
  /** Event types the bus carries: each is a topic of that name (after `topicPrefix`). */
  eventTypes: readonly string[];
  /** Partitions of each topic this bus creates (existing topics keep theirs). */
  partitions: number;
  /** A publish not acknowledged by every in-sync replica after this long fails; the relay retries. */
  publishTimeoutMs: number;
  /** A consumer silent this long leaves its group; its partitions move to the others. */
  sessionTimeoutMs: number;
  /** Create missing topics with the admin client at first use (off: they must exist). */
  createTopics?: boolean;
  topicPrefix?: string;
  /** Pause before an event whose handler threw is delivered again (default 1 s). */
  redeliveryDelayMs?: number;
  clientId?: string;
  logger: Logger;
}

/**
 * Kafka through @confluentinc/kafka-javascript (librdkafka). One topic per event type
 * (`reservation.confirmed`), several partitions, messages keyed by the event key (the concert
 * id): the Java-compatible murmur2 partitioner puts one concert's events in one partition, where
 * they keep their order. The producer is idempotent with acks=all, so its own retries neither
 * duplicate nor reorder, and `publish` resolves only when every in-sync replica has the batch.
 * Each group (one per consumer) is a Kafka consumer group: partitions are shared by its members;
 * one member reads a partition at a time, in order. An offset is stored only after the handler
 * resolved and auto-committed every second (and on close and rebalance), so a crash redelivers
 * at most the last second of events (consumers are idempotent); a handler that throws is
 * delivered the same event again, after a pause, and nothing behind it in its partition passes it.
 */
export function createKafkaBus(options: KafkaBusOptions, kafkaModule?: KafkaModule): EventBus {
  const { logger } = options;
  const topicOf = (type: string) => `${options.topicPrefix ?? ''}${type}`;
  const topics = options.eventTypes.map(topicOf);
  const clientId = options.clientId ?? `overture-${hostname()}-${process.pid}`;
  const subscriptions = new Set<Subscription>();
  /** Groups subscribed here whose member has not had its first assignment yet. */
  const joining = new Set<string>();

  const kafka = lazily(() =>
    createKafkaClient(
      { brokers: options.brokers, clientId, logger, neededBy: 'EVENT_BUS=kafka' },
      kafkaModule,
    ),
  );

  let topicsReady: Promise<void> | undefined;
  /** Best effort, once per process: create missing topics. Never blocks the bus from working. */
  const ensureTopics = () =>
    (topicsReady ??= (async () => {
      if (options.createTopics === false) return;
      await createMissingTopics(await kafka.get(), topics, options.partitions, logger);
    })());

  const producer = lazyProducer({
    client: kafka.get,
    prepare: ensureTopics,
    lingerMs: 5,
    timeoutMs: options.publishTimeoutMs,
  });

  return {
    name: 'kafka',

    async publish(events) {
      if (events.length === 0) return;
      // The relay waits no longer than a publish may.
      await producer.sendBatch(topicMessages(events, options.eventTypes, topicOf));
    },

    async subscribe(group, handler) {
      // A missing client package is a configuration error: refuse at start-up, loudly.
      const client = await kafka.get();
      const stopping = new AbortController();
      let joined: KafkaConsumer | undefined;

      const eachMessage = redeliveringHandler(handler, {
        group,
        logger,
        redeliveryDelayMs: options.redeliveryDelayMs ?? 1_000,
        stopping: stopping.signal,
      });
      joining.add(group);
      // Connected before the first publish needs it, so a ready instance publishes at once.
      producer.warm();
      const join = async (): Promise<void> => {
        await ensureTopics();
        joined = await joinGroup(client, {
          groupId: group,
          topics,
          onAssigned: () => joining.delete(group),
          sessionTimeoutMs: options.sessionTimeoutMs,
          // Partitions are handled side by side; within one, strictly one message at a time.
          run: { partitionsConsumedConcurrently: options.partitions, eachMessage },
          stopped: () => stopping.signal.aborted,
        });
      };
      joinInBackground(join, { signal: stopping.signal, logger, group });

      const subscription: Subscription = {
        async stop() {
          if (!subscriptions.delete(subscription)) return;
          joining.delete(group);
          stopping.abort();
          // Waits for the message in hand, then commits the stored offsets and leaves the group.
          // (An attempt still connecting disconnects by itself when it ends.)
          await joined?.disconnect();
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },

    async close() {
      await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
      await producer.close();
    },

    // A start-up gate: once each group's member had its first assignment it stays ready, and a
    // later outage of the bus shows as the outbox's lag instead (the outbox keeps payments
    // working, so a bus outage must not take every instance out of rotation at once).
    readiness() {
      const problems: NotReady[] = [];
      if (!producer.connected()) {
        producer.warm();
        problems.push({
          reason: 'kafka-producer',
          component: 'event bus',
          message: 'The Kafka producer has not connected yet.',
        });
      }
      for (const group of joining)
        problems.push({
          reason: 'kafka-consumer',
          component: group,
          message: `The consumer group ${group} has not assigned this member its partitions yet.`,
        });
      return problems;
    },
  };
}

/**
 * A publish's events as messages per topic, keyed by the event key, in publish order. A type
 * without its topic would be published where nobody reads: it is refused, loudly.
 */
function topicMessages(
  events: OutboxEvent[],
  eventTypes: readonly string[],
  topicOf: (type: string) => string,
): { topic: string; messages: KafkaMessage[] }[] {
  const byTopic = new Map<string, KafkaMessage[]>();
  for (const event of events) {
    if (!eventTypes.includes(event.type))
      throw new Error(`no kafka topic for event type ${event.type} (KafkaBusOptions.eventTypes)`);
    const topic = topicOf(event.type);
    const messages = byTopic.get(topic) ?? [];
    messages.push({
      key: event.key,
      value: JSON.stringify(event),
      headers: {
        'event-id': event.eventId,
        'event-type': event.type,
        ...traceHeaders(event.traceContext),
      },
    });
    byTopic.set(topic, messages);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * One group's handler as the consumer's eachMessage: a message that is not an event is logged
 * and skipped; when the handler throws, the same message comes again after a pause, before
 * anything behind it in its partition.
 */
function redeliveringHandler(
  handler: (event: OutboxEvent) => Promise<void>,
  options: { group: string; logger: Logger; redeliveryDelayMs: number; stopping: AbortSignal },
) {
  const { group, logger } = options;
  return async ({
    topic,
    partition,
    message,
  }: {
    topic: string;
    partition: number;
    message: KafkaConsumedMessage;
  }): Promise<void> => {
    const event = decodeEvent(message.value?.toString('utf8'));
    if (!event) {
      logger.error(
        { topic, partition, offset: message.offset, group },
        'kafka message is not an event; skipped',
      );
      return;
    }
    try {
      await handler(event);
    } catch (error) {
      logger.warn(
        { err: error, group, eventId: event.eventId, topic, partition },
        'event handler failed; the event will be delivered again',
      );
      await pause(options.redeliveryDelayMs, options.stopping);
      // The client seeks back to this message: it comes again, before anything behind it.
      throw error;
    }
  };
}

import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { EventBus, Subscription } from './bus.js';
import { ExplainedError } from '../../shared/explained-error.js';
import { decodeEvent, pause } from './bus.shared.js';

/**
 * The part of @confluentinc/kafka-javascript (its KafkaJS-style API) this adapter uses, typed
 * here so the project compiles and starts without the optional package; it is loaded only when
 * EVENT_BUS=kafka.
 */
export interface KafkaModule {
  Kafka: new (config: Record<string, unknown>) => KafkaClient;
}
export interface KafkaClient {
  producer(config: Record<string, unknown>): KafkaProducer;
  consumer(config: Record<string, unknown>): KafkaConsumer;
  admin(config?: Record<string, unknown>): KafkaAdmin;
}
export interface KafkaMessage {
  key: string;
  value: string;
  headers?: Record<string, string>;
}
export interface KafkaProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  sendBatch(batch: {
    topicMessages: { topic: string; messages: KafkaMessage[] }[];
  }): Promise<unknown[]>;
}
/** One consumed message as the handlers see it. */
export interface KafkaConsumedMessage {
  offset: string;
  value: Buffer | null;
}
export interface KafkaConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: { topics: string[] }): Promise<void>;
  /** Either eachMessage or eachBatch (a partition's messages in order, several at a time). */
  run(config: {
    partitionsConsumedConcurrently?: number;
    eachMessage?: (payload: {
      topic: string;
      partition: number;
      message: KafkaConsumedMessage;
    }) => Promise<void>;
    eachBatch?: (payload: {
      batch: { topic: string; partition: number; messages: KafkaConsumedMessage[] };
    }) => Promise<void>;
  }): Promise<void>;
  assignment(): { topic: string; partition: number }[];
}
export interface KafkaAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  createTopics(options: {
    topics: { topic: string; numPartitions: number; replicationFactor: number }[];
    timeout?: number;
  }): Promise<boolean>;
}

const PACKAGE = '@confluentinc/kafka-javascript';

/** How to install the client, as README's "Kafka" section says (docs/decisions/0008). */
const INSTALL_STEPS = [
  'Install it (npm compiles it and the librdkafka it bundles, offline, in about 2 minutes):',
  '  1. the build tools, on Debian/Ubuntu: apt-get install g++ make pkg-config libssl-dev zlib1g-dev',
  '     (and librdkafka-dev for the Kafka mock cluster of the tests)',
  '  2. CKJS_LINKING=dynamic npm_config_nodedir=/usr npm install',
  "     (npm_config_nodedir: the folder holding Node's include/node headers, /usr for Debian's nodejs;",
  "     package.json's allowScripts lets the client's build script run)",
  `  3. check: node -e "require('${PACKAGE}')"`,
].join('\n');

/** The optional client cannot be used; the message says why and how to install it. */
export class KafkaClientMissing extends ExplainedError {
  override name = 'KafkaClientMissing';
}

/**
 * Loads the optional Kafka client, or says why it cannot: not installed (npm drops an optional
 * dependency that failed to build, silently — docs/decisions/0008), or installed but not loading
 * (a native build for another Node.js version).
 */
export async function importKafka(): Promise<{ kafka: KafkaModule } | { missing: string }> {
  try {
    // A name in a variable: TypeScript does not look for the optional package at compile time.
    const name = PACKAGE;
    const loaded = (await import(name)) as {
      KafkaJS?: KafkaModule;
      default?: { KafkaJS?: KafkaModule };
    };
    const kafka = loaded.KafkaJS ?? loaded.default?.KafkaJS;
    return kafka ? { kafka } : { missing: `${PACKAGE} has no KafkaJS API` };
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (code === 'ERR_MODULE_NOT_FOUND') return { missing: `${PACKAGE} is not installed` };
    const reason = String(message).split('\n')[0] ?? '';
    return {
      missing:
        `${PACKAGE} is installed but does not load (${reason}); rebuild it for this Node.js: ` +
        `CKJS_LINKING=dynamic npm_config_nodedir=/usr npm rebuild ${PACKAGE} --build-from-source`,
    };
  }
}

/** The optional Kafka client, or undefined when it cannot be loaded. */
export async function loadKafka(): Promise<KafkaModule | undefined> {
  const loaded = await importKafka();
  return 'kafka' in loaded ? loaded.kafka : undefined;
}

/** The optional Kafka client that `neededBy` (a setting) needs, or a KafkaClientMissing. */
export async function requireKafka(neededBy: string): Promise<KafkaModule> {
  const loaded = await importKafka();
  if ('kafka' in loaded) return loaded.kafka;
  throw new KafkaClientMissing(
    `${neededBy} needs the optional Kafka client, but ${loaded.missing}.\n${INSTALL_STEPS}\n` +
      'Or start without Kafka: unset KAFKA_BROKERS (EVENT_BUS=inprocess or redis, QUEUE_BACKEND=postgres or redis). README: Kafka.',
  );
}

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
  const known = new Set(options.eventTypes);
  const redeliveryDelayMs = options.redeliveryDelayMs ?? 1_000;
  const clientId = options.clientId ?? `overture-${hostname()}-${process.pid}`;
  const subscriptions = new Set<Subscription>();

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
      const byTopic = new Map<string, KafkaMessage[]>();
      for (const event of events) {
        // A type without its topic would be published where nobody reads: refuse it loudly.
        if (!known.has(event.type))
          throw new Error(
            `no kafka topic for event type ${event.type} (KafkaBusOptions.eventTypes)`,
          );
        const topic = topicOf(event.type);
        const messages = byTopic.get(topic) ?? [];
        messages.push({
          key: event.key,
          value: JSON.stringify(event),
          headers: { 'event-id': event.eventId, 'event-type': event.type },
        });
        byTopic.set(topic, messages);
      }
      // The relay waits no longer than a publish may.
      await producer.sendBatch([...byTopic].map(([topic, messages]) => ({ topic, messages })));
    },

    async subscribe(group, handler) {
      // A missing client package is a configuration error: refuse at start-up, loudly.
      const client = await kafka.get();
      const stopping = new AbortController();
      const stopped = () => stopping.signal.aborted;
      let joined: KafkaConsumer | undefined;

      const eachMessage = async ({
        topic,
        partition,
        message,
      }: {
        topic: string;
        partition: number;
        message: { offset: string; value: Buffer | null };
      }) => {
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
          await pause(redeliveryDelayMs, stopping.signal);
          // The client seeks back to this message: it comes again, before anything behind it.
          throw error;
        }
      };

      const join = async (): Promise<void> => {
        await ensureTopics();
        const consumer = client.consumer({
          kafkaJS: {
            groupId: group,
            // Where the group has no committed offset yet: everything the topic still holds.
            fromBeginning: true,
            autoCommit: true,
            autoCommitInterval: 1_000,
            sessionTimeout: options.sessionTimeoutMs,
            heartbeatInterval: Math.max(100, Math.floor(options.sessionTimeoutMs / 10)),
          },
        });
        try {
          await consumer.connect();
          await consumer.subscribe({ topics });
          // Partitions are handled side by side; within one, strictly one message at a time.
          await consumer.run({ partitionsConsumedConcurrently: options.partitions, eachMessage });
        } catch (error) {
          await consumer.disconnect().catch(() => undefined);
          throw error;
        }
        if (stopped()) await consumer.disconnect();
        else joined = consumer;
      };

      joinInBackground(join, { signal: stopping.signal, logger, group });

      const subscription: Subscription = {
        async stop() {
          if (!subscriptions.delete(subscription)) return;
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
  };
}

/**
 * A client of `brokers` through the optional package, with our logger and reconnect pacing;
 * rejects naming `neededBy` when the package is not installed.
 */
export async function createKafkaClient(
  options: { brokers: string[]; clientId: string; logger: Logger; neededBy: string },
  kafkaModule?: KafkaModule,
): Promise<KafkaClient> {
  const module = kafkaModule ?? (await requireKafka(options.neededBy));
  return new module.Kafka({
    kafkaJS: {
      brokers: options.brokers,
      clientId: options.clientId,
      logger: kafkaLogger(options.logger),
    },
    // librdkafka backs reconnects off up to 10 s by default: a broker back from an outage
    // would wait that long for its first client.
    'reconnect.backoff.max.ms': 1_000,
  });
}

/**
 * `create()` made once and shared by `get`; a failure is forgotten, so the next `get` tries again.
 * `take` hands the current one over (to close it) and forgets it.
 */
export function lazily<T>(create: () => Promise<T>) {
  let made: Promise<T> | undefined;
  return {
    get: (): Promise<T> =>
      (made ??= create().catch((error: unknown) => {
        made = undefined;
        throw error;
      })),
    take: (): Promise<T> | undefined => {
      const current = made;
      made = undefined;
      return current;
    },
  };
}

/**
 * An idempotent producer (acks=all: its retries neither duplicate nor reorder), connected on the
 * first send after `prepare` (topics), shared by later sends, replaced after a fatal error.
 */
export function lazyProducer(options: {
  client: () => Promise<KafkaClient>;
  prepare: () => Promise<void>;
  lingerMs: number;
  /** How long a send (its first connection included) may take. */
  timeoutMs: number;
}) {
  const producer = lazily(async () => {
    await options.prepare();
    const created = (await options.client()).producer({
      kafkaJS: { idempotent: true, acks: -1, maxInFlightRequests: 5 },
      'linger.ms': options.lingerMs,
      'message.timeout.ms': options.timeoutMs,
    });
    await created.connect();
    return created;
  });
  return {
    async sendBatch(topicMessages: { topic: string; messages: KafkaMessage[] }[]): Promise<void> {
      // The first connection waits up to 30 s for brokers that are down: a send waits no longer
      // than timeoutMs (the attempt goes on in the background for the next send).
      const ready = await withTimeout(
        producer.get(),
        options.timeoutMs,
        'the kafka producer is not connected',
      );
      try {
        await ready.sendBatch({ topicMessages });
      } catch (error) {
        // A fatal producer error (e.g. the idempotence sequence broken) needs a new producer.
        if ((error as { fatal?: boolean }).fatal) {
          void producer.take(); // forgotten: the next send connects a new one
          await ready.disconnect().catch(() => undefined);
        }
        throw error;
      }
    },

    async close(): Promise<void> {
      const current = producer.take();
      if (!current) return;
      // A producer still waiting for brokers that are down is disconnected when it connects.
      const ready = await withTimeout(current, 1_000, 'not connected').catch(() => undefined);
      if (ready) await ready.disconnect();
      else void current.then((late) => late.disconnect()).catch(() => undefined);
    },
  };
}

/**
 * Joins a consumer group in the background (a join waits for the brokers, 30 s per attempt while
 * they are down), retrying with backoff until it succeeds or `signal` aborts: the service starts
 * and works without Kafka, and consumes once it is back.
 */
export function joinInBackground(
  join: () => Promise<void>,
  options: { signal: AbortSignal; logger: Logger; group: string },
): void {
  void (async () => {
    const aborted = () => options.signal.aborted;
    for (let attempt = 0; !aborted(); attempt++) {
      try {
        await join();
        return;
      } catch (error) {
        if (aborted()) return;
        options.logger.warn(
          { err: error, group: options.group },
          'kafka consumer could not connect; retrying',
        );
        await pause(Math.min(30_000, 1_000 * 2 ** attempt), options.signal);
      }
    }
  })();
}

/**
 * Best effort: creates those of `topics` the cluster lacks, with `partitions` partitions and the
 * broker's default replication factor. Without the right to (or on the mock, which has no
 * CreateTopics — 0008) it only warns: the topics must then exist or be auto-created.
 */
export async function createMissingTopics(
  client: KafkaClient,
  topics: string[],
  partitions: number,
  logger: Logger,
): Promise<void> {
  const admin = client.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      topics: missing.map((topic) => ({
        topic,
        numPartitions: partitions,
        // -1: the broker's default.replication.factor.
        replicationFactor: -1,
      })),
      timeout: 5_000,
    });
    logger.info({ topics: missing, partitions }, 'kafka topics created');
  } catch (error) {
    logger.warn(
      { err: error, topics },
      'could not check or create the kafka topics; they must exist (or be auto-created)',
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** `promise`, or a rejection after `ms` (the promise itself goes on). */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${message} after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** librdkafka's warnings and errors in our log, each distinct message at most every 10 s. */
export function kafkaLogger(logger: Logger) {
  const child = logger.child({ component: 'kafka' });
  const lastSeen = new Map<string, number>();
  const throttled = (level: 'warn' | 'error') => (message: string, extra?: object) => {
    // Our own handler-failure line already says it, with the event.
    if (message.startsWith('Consumer encountered error while processing message')) return;
    // One line per kind (ports, broker ids and counts aside) in an outage, not one per retry.
    const kind = message.replace(/\d+/g, '#').slice(0, 120);
    const now = Date.now();
    if (now - (lastSeen.get(kind) ?? 0) < 10_000) return;
    if (lastSeen.size > 1_000) lastSeen.clear();
    lastSeen.set(kind, now);
    child[level]({ kafka: extra }, message);
  };
  const kafkaLog = {
    info: () => undefined,
    debug: () => undefined,
    warn: throttled('warn'),
    error: throttled('warn'),
    namespace: () => kafkaLog,
    setLogLevel: () => undefined,
  };
  return kafkaLog;
}

import { ExplainedError } from '../shared/explained-error.js';

/**
 * The part of @confluentinc/kafka-javascript (its KafkaJS-style API) Overture uses, typed
 * here so the project compiles and starts without the optional package; it is loaded only when
 * EVENT_BUS=kafka or QUEUE_BACKEND=stream needs it.
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
      batch: {
        topic: string;
        partition: number;
        /** The partition's end (the offset the next message will take) when the batch was fetched. */
        highWatermark: string;
        messages: KafkaConsumedMessage[];
      };
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

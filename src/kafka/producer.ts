import type { KafkaClient, KafkaMessage, KafkaProducer } from './package.js';
import { lazily } from './client.js';

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
  let connected: Promise<KafkaProducer> | undefined;
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
  const current = () => {
    const made = producer.get();
    made.then(
      () => (connected = made),
      () => undefined,
    );
    return made;
  };
  return {
    /** Connects now, in the background, unless connected or connecting (readiness asks this). */
    warm(): void {
      current().catch(() => undefined);
    },
    /** Whether the producer is connected (set once its connection resolved, until replaced). */
    connected(): boolean {
      return connected !== undefined;
    },

    async sendBatch(topicMessages: { topic: string; messages: KafkaMessage[] }[]): Promise<void> {
      // The first connection waits up to 30 s for brokers that are down: a send waits no longer
      // than timeoutMs (the attempt goes on in the background for the next send).
      const ready = await withTimeout(
        current(),
        options.timeoutMs,
        'the kafka producer is not connected',
      );
      try {
        await ready.sendBatch({ topicMessages });
      } catch (error) {
        // A fatal producer error (e.g. the idempotence sequence broken) needs a new producer.
        if ((error as { fatal?: boolean }).fatal) {
          void producer.take(); // forgotten: the next send connects a new one
          connected = undefined;
          await ready.disconnect().catch(() => undefined);
        }
        throw error;
      }
    },

    async close(): Promise<void> {
      const taken = producer.take();
      connected = undefined;
      if (!taken) return;
      // A producer still waiting for brokers that are down is disconnected when it connects.
      const ready = await withTimeout(taken, 1_000, 'not connected').catch(() => undefined);
      if (ready) await ready.disconnect();
      else void taken.then((late) => late.disconnect()).catch(() => undefined);
    },
  };
}

/** `promise`, or a rejection after `ms` (the promise itself goes on). */
async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
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

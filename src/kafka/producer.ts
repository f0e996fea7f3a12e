import type { KafkaClient, KafkaMessage } from './package.js';
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

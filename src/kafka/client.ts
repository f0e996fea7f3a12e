import type { Logger } from 'pino';
import { requireKafka, type KafkaClient, type KafkaModule } from './package.js';

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

/** librdkafka's warnings and errors in our log, each distinct message at most every 10 s. */
function kafkaLogger(logger: Logger) {
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

import type { Logger } from 'pino';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { createContainer, type Container } from './container.js';
import { createLogger } from './logger.js';
import { openConfiguredDatabase } from './db/client.js';
import { migrateDatabase } from './db/migrate.js';
import { seedDemoData } from './db/seed.js';
import { loadDemoCatalogue } from './demo/demo.catalogue.js';
import { requireKafka } from './kafka/package.js';
import { resolveOperatorKey, type OperatorKey } from './modules/auth/operator-key.js';
import { resolvePowSecret, type PowSecret } from './modules/queue/queue.pow.secret.js';
import { closeRedis, clusterMismatch, redisReady } from './redis/client.js';
import type { App } from './shared/app-types.js';

export interface RunningServer {
  app: App;
  container: Container;
  url: string;
  /** What opens the operator endpoints (the start-up banner prints a key kept in the data folder). */
  operatorKey: OperatorKey;
  /** What signs proof-of-work challenges (decision 0051); 'none': rooms cannot require one. */
  powSecret: PowSecret;
  /** Graceful stop: refuse new requests, finish in-flight ones, stop workers, close the pool. */
  close(): Promise<void>;
}

/** Opens and migrates the database, loads demo data if empty, listens, and starts the workers. */
export async function startServer(
  config: Config,
  logger: Logger = createLogger(config),
): Promise<RunningServer> {
  const startedAt = Date.now();
  // Refuse at once, with the install steps, rather than start and fail every publish later.
  const kafkaSettings = [
    config.EVENT_BUS === 'kafka' ? 'EVENT_BUS=kafka (KAFKA_BROKERS)' : '',
    config.QUEUE_BACKEND === 'stream' ? 'QUEUE_BACKEND=stream' : '',
  ].filter(Boolean);
  if (kafkaSettings.length > 0) await requireKafka(kafkaSettings.join(' and '));
  const database = openConfiguredDatabase(config, { logger, holder: 'the Overture server' });
  let operatorKey: OperatorKey;
  let powSecret: PowSecret;
  let loadDemo: boolean;
  try {
    await migrateDatabase(database);
    // After opening: the embedded database's folder exists, and this process holds it.
    operatorKey = await resolveOperatorKey(config);
    powSecret = await resolvePowSecret(config);
    // This start found the database without a concert and claimed it for the demo.
    loadDemo =
      config.SEED_DEMO_DATA && (await seedDemoData(database)) && config.SEED_DEMO_CATALOGUE;
  } catch (error) {
    await database.close();
    throw error;
  }
  if (config.AUTH_MODE === 'client-id') {
    logger.warn(
      'AUTH_MODE=client-id: any caller can act as any user by sending their Client-Id (seed compatibility and demos only; use AUTH_MODE=jwt in production)',
    );
  }
  if (typeof config.TRUST_PROXY === 'number') {
    logger.warn(
      `TRUST_PROXY=${config.TRUST_PROXY} believes the X-Forwarded-For of the nearest ${config.TRUST_PROXY} sender(s), whoever they are: clients must reach this instance only through those proxies (otherwise list the proxies' addresses in TRUST_PROXY)`,
    );
  }
  const container = createContainer(config, database, logger, powSecret);
  /** The bus, Redis and the database, closed in that order (a failed start, or the stop). */
  const closeDependencies = async () => {
    await container.bus.close();
    if (container.redis) await closeRedis(container.redis);
    await database.close();
  };
  if (loadDemo) {
    try {
      const demo = await loadDemoCatalogue({ ...container, database }, new Date(startedAt));
      logger.info(demo, 'demo data loaded: five simple concerts and three on venues');
    } catch (error) {
      await closeDependencies();
      throw error;
    }
  }
  // Without Redis the server still starts: queue calls answer 503 until the client reconnects.
  if (container.redis && !(await redisReady(container.redis, 5_000)))
    logger.warn('redis is not reachable yet; queue calls answer 503 until it is');
  const { redis } = container;
  const mismatch = redis?.status === 'ready' ? await clusterMismatch(redis) : undefined;
  if (mismatch) {
    await closeDependencies();
    throw new Error(mismatch);
  }
  const { app, beginClosing } = await buildApp({ container, logger, operatorKey });
  // A sale opens with thousands of connections at once: Node's default accept queue (511)
  // overflowed at 1,000 and the dropped SYNs came back 1–3 s later (0012). The kernel caps
  // this at net.core.somaxconn.
  const address = await app.listen({ port: config.PORT, host: config.HOST, backlog: 4096 });
  for (const worker of container.workers) await worker.start();
  const url = address.replace('://0.0.0.0', '://127.0.0.1').replace('://[::]', '://[::1]');

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      beginClosing();
      await app.close();
      for (const worker of [...container.workers].reverse()) await worker.stop();
      await closeDependencies();
      logger.info('stopped');
    })());
  return { app, container, url, operatorKey, powSecret, close };
}

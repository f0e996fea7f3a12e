import pino from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createClient, type TestClient } from './client.js';
import type { TestDatabase } from './db.js';
import {
  postgresInspector,
  redisInspector,
  testQueueBackend,
  type QueueBackend,
  type QueueInspector,
} from './queue-backend.js';
import { closeRedis, connectTestRedis, deletePrefix, redisUrl, testKeyPrefix } from './redis.js';

export type Overrides = Partial<Record<keyof Config, string>>;

export function testConfig(overrides: Overrides = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    ADMISSION_INTERVAL_MS: '100',
    OUTBOX_INTERVAL_MS: '100',
    POPULAR_CACHE_MS: '0',
    // A test reads the seat map right after it changes it; decision 0061's snapshots have a test.
    SEAT_MAP_CACHE_MS: '0',
    // Likewise a room's view right after a join or an opening; decision 0066's snapshot has a test.
    ROOM_VIEW_CACHE_MS: '0',
    // And the public concert list right after a concert is made (decision 0064's cache: a browser
    // test that signed in within a second of another saw the list without its new concert).
    SALE_LIST_CACHE_MS: '0',
    // Tests fire hundreds of requests from one address; rate limits have a suite of their own.
    RATE_LIMIT_ENABLED: 'false',
    // The five simple demo concerts only: 120 sold seats and two venues in every test database
    // would change every count a test makes (test/smoke/pglite.test.ts loads the whole demo).
    SEED_DEMO_CATALOGUE: 'false',
    ...overrides,
  });
}

export interface TestServer extends RunningServer {
  client: TestClient;
  /** The waiting room behind the API, on whichever queue backend this server runs. */
  queue: QueueInspector;
}

/**
 * A real listening server (random port) on the test database, workers running. The queue backend
 * is QUEUE_BACKEND from the overrides, else TEST_QUEUE_BACKEND (postgres by default); on Redis the
 * server gets a key prefix of its own (deleted on close) unless the overrides name one to share.
 */
export async function startTestServer(
  database: TestDatabase | undefined,
  overrides: Overrides = {},
): Promise<TestServer> {
  const backend = overrides.QUEUE_BACKEND ?? testQueueBackend();
  // The stream backend keeps its waiting room in Redis too (and needs KAFKA_BROKERS).
  const inRedis = backend === 'redis' || backend === 'stream';
  // On a private cluster (REDIS_CLUSTER_NODES) there is no REDIS_URL to give.
  const onCluster = overrides.REDIS_CLUSTER_NODES !== undefined;
  if (inRedis && overrides.REDIS_URL === undefined && !onCluster) requireRedis();
  const ownPrefix = inRedis && overrides.REDIS_KEY_PREFIX === undefined;
  const stream =
    backend === 'stream' && overrides.KAFKA_BROKERS === undefined ? await streamSettings() : {};
  const config = testConfig({
    ...(database ? { DATABASE_URL: database.url } : { PGLITE_IN_MEMORY: 'true' }),
    ...stream,
    ...(inRedis
      ? {
          QUEUE_BACKEND: backend,
          ...(onCluster ? {} : { REDIS_URL: redisUrl }),
          REDIS_KEY_PREFIX: testKeyPrefix(),
        }
      : {}),
    ...overrides,
  });
  const logLevel = process.env.TEST_LOG_LEVEL;
  const server = await startServer(config, pino({ level: logLevel ?? 'silent' }));
  if (config.QUEUE_BACKEND === 'stream') await untilJoinsArePlaced(server);
  const queue =
    config.QUEUE_BACKEND === 'postgres'
      ? postgresInspector(database)
      : await redisInspector(database, config, ownPrefix);
  return {
    ...server,
    client: createClient(server.url),
    queue,
    close: async () => {
      await server.close();
      await queue.close();
    },
  };
}

let streamMock: Promise<{ brokers: string }> | undefined;

/**
 * TEST_QUEUE_BACKEND=stream: one private Kafka mock per test process (it exits with the process),
 * events kept in process, and joins that wait for their placement as the contract suite does.
 */
export async function streamSettings(): Promise<Overrides> {
  // Imported here: the Kafka support module checks the mock and client when it loads.
  const { startKafkaMock } = await import('./kafka.js');
  streamMock ??= startKafkaMock(['queue.entries:6']);
  const { brokers } = await streamMock;
  return {
    KAFKA_BROKERS: brokers,
    EVENT_BUS: 'inprocess',
    QUEUE_STREAM_APPLY_WAIT_MS: '10000',
    // The mock makes a member joining a non-empty group wait this long minus 1 s (0008).
    KAFKA_SESSION_TIMEOUT_MS: '4000',
  };
}

/** A new stream server places nothing until its consumer joined its group: wait for that. */
async function untilJoinsArePlaced(server: RunningServer): Promise<void> {
  const worker = server.container.workers.find(
    (candidate): candidate is typeof candidate & { assignment(): number[] } =>
      'assignment' in candidate,
  );
  const deadline = Date.now() + 30_000;
  while (worker && worker.assignment().length === 0) {
    if (Date.now() > deadline) throw new Error('the stream queue consumer never got partitions');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Redis-backed test servers need the test Redis: say so plainly instead of failing on a bad URL. */
function requireRedis(): void {
  if (redisUrl === '')
    throw new Error(
      'This test runs on the Redis queue backend (TEST_QUEUE_BACKEND=redis, or the redis-queue ' +
        'project of vitest.config.ts), but Redis is not reachable: start it or set TEST_REDIS_URL.',
    );
}

/**
 * What several servers or server processes need to share one waiting room: on Redis one key
 * prefix of their own (made here; `cleanup` deletes it), on PostgreSQL nothing but the database.
 */
export interface SharedWaitingRoom {
  backend: QueueBackend;
  /** Overrides for each startTestServer that joins the room. */
  overrides: Overrides;
  /** Environment for a server process (src/main.ts) that joins the room. */
  env: Record<string, string>;
  /** An inspector of the room without a server of its own (close it; it leaves the keys). */
  inspector(database: TestDatabase | undefined): Promise<QueueInspector>;
  cleanup(): Promise<void>;
}

export function sharedWaitingRoom(backend: QueueBackend = testQueueBackend()): SharedWaitingRoom {
  if (backend === 'postgres')
    return {
      backend,
      overrides: {},
      env: { QUEUE_BACKEND: 'postgres' },
      inspector: (database) => Promise.resolve(postgresInspector(database)),
      cleanup: () => Promise.resolve(),
    };
  requireRedis();
  const prefix = testKeyPrefix();
  return {
    backend,
    overrides: { REDIS_KEY_PREFIX: prefix },
    // The stream backend's processes also need KAFKA_BROKERS (streamSettings, useServerProcesses).
    env: {
      QUEUE_BACKEND: backend === 'stream' ? 'stream' : 'redis',
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
    },
    inspector: (database) =>
      redisInspector(
        database,
        testConfig({ QUEUE_BACKEND: 'redis', REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix }),
        false,
      ),
    async cleanup() {
      const client = await connectTestRedis();
      try {
        await deletePrefix(client, prefix);
      } finally {
        await closeRedis(client);
      }
    },
  };
}

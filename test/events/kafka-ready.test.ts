import pino from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { RESERVATION_CANCELLED, RESERVATION_CONFIRMED } from '../../src/modules/events/events.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createClient, type TestClient } from '../support/client.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { describeWithKafka, startKafkaMock, type KafkaMock } from '../support/kafka.js';
import {
  closeRedis,
  connectTestRedis,
  deletePrefix,
  redisUrl,
  testKeyPrefix,
} from '../support/redis.js';
import { testConfig, type Overrides } from '../support/server.js';

/** Bounds each case: the mock holds a new group's first join for 3 s (0008). */
const READY_WITHIN_MS = 30_000;

/**
 * Ready means usable on the Kafka paths, tried as a new user would, each case on a private mock
 * cluster: a stream-queue server on a fresh cluster answers its very first join without a 503
 * once /health/ready says 200; a Kafka-bus server on a cluster that has the topics shows a
 * payment's ranking update within 2 s of being ready (its consumer groups have joined).
 */
describeWithPostgres('readiness on the Kafka paths', () => {
  describeWithKafka('with the Kafka client and mock', () => {
    let db: TestDatabase;
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    afterAll(async () => {
      await db?.drop();
    });

    const mock = async (topics: string[]): Promise<KafkaMock> => {
      const started = await startKafkaMock(topics);
      cleanups.push(() => started.stop());
      return started;
    };
    /** A server as `npm start` runs one: no test helper waits for Kafka on its behalf. */
    const start = async (
      overrides: Overrides,
    ): Promise<{ server: RunningServer; client: TestClient }> => {
      const server = await startServer(
        testConfig({ DATABASE_URL: db.url, MAX_ACTIVE: '1000', ...overrides }),
        pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      );
      cleanups.push(() => server.close());
      return { server, client: createClient(server.url) };
    };
    /** Polls /health/ready until 200; every refusal on the way names a Kafka reason. */
    const untilReady = async (client: TestClient) => {
      const seen = new Set<string>();
      const deadline = Date.now() + READY_WITHIN_MS;
      for (;;) {
        const ready = await client.call<{ reasons?: { reason: string }[] }>('GET', '/health/ready');
        if (ready.status === 200) return seen;
        expect(ready.status).toBe(503);
        for (const problem of ready.data.reasons ?? []) seen.add(problem.reason);
        if (Date.now() > deadline)
          throw new Error(`not ready after ${READY_WITHIN_MS} ms: ${[...seen].join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };

    it('QUEUE_BACKEND=stream on a fresh cluster: once ready, the very first join is not a 503', async () => {
      const cluster = await mock([]);
      const prefix = testKeyPrefix();
      cleanups.push(async () => {
        const redis = await connectTestRedis();
        await deletePrefix(redis, prefix);
        await closeRedis(redis);
      });
      const { client } = await start({
        QUEUE_BACKEND: 'stream',
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: prefix,
        KAFKA_BROKERS: cluster.brokers,
        EVENT_BUS: 'inprocess',
        KAFKA_SESSION_TIMEOUT_MS: '4000',
      });
      const reasons = await untilReady(client);
      // It was not ready at once: the log had to be usable first.
      expect([...reasons].every((reason) => reason.startsWith('kafka-'))).toBe(true);
      const first = await client.join(1);
      expect(first.status).toBe(201);
      expect(first.data.token).toEqual(expect.any(String));
      const status = await client.status(first.data.token);
      expect(status.status).toBe(200);
    });

    it('the Kafka bus on a cluster with the topics: once ready, a payment ranks within 2 s', async () => {
      const cluster = await mock([`${RESERVATION_CONFIRMED}:6`, `${RESERVATION_CANCELLED}:6`]);
      const { client } = await start({
        QUEUE_BACKEND: 'postgres',
        KAFKA_BROKERS: cluster.brokers,
        EVENT_BUS: 'kafka',
        KAFKA_TOPIC_PARTITIONS: '6',
        KAFKA_SESSION_TIMEOUT_MS: '6000',
        OUTBOX_INTERVAL_MS: '100',
      });
      const reasons = await untilReady(client);
      expect([...reasons].every((reason) => reason.startsWith('kafka-'))).toBe(true);
      const concert = await createConcert(db.pool, { seats: 2, price: 1_000 });
      const token = await client.activeToken(1);
      await setBalance(db.pool, 1, 1_000);
      expect((await client.hold(token, concert.concertId, concert.seatIds[0]!)).status).toBe(201);
      expect((await client.pay(token, concert.seatIds[0]!)).status).toBe(201);
      const paidAt = Date.now();
      await expect
        .poll(
          async () =>
            (
              await db.pool.query<{ n: number }>(
                `SELECT confirmed_count::int AS n FROM concert_ranking WHERE concert_id = $1`,
                [concert.concertId],
              )
            ).rows[0]?.n ?? 0,
          { timeout: 2_000, interval: 50 },
        )
        .toBe(1);
      expect(Date.now() - paidAt).toBeLessThan(2_000);
    });
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { describeWithKafka, startKafkaMock, type KafkaMock } from '../support/kafka.js';
import { describeWithRedis } from '../support/redis.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The HTTP API on QUEUE_BACKEND=stream answers as on the other backends (same shapes, codes and
 * places), and a join the Kafka log cannot take answers 503, never 500, while everything else
 * keeps working.
 */
describeWithPostgres('waiting room over HTTP (stream backend)', () => {
  describeWithRedis('', () => {
    describeWithKafka('(Kafka log on a mock cluster)', () => {
      const TOPIC = 'queue.entries.api';
      let db: TestDatabase;
      let mock: KafkaMock;
      let server: TestServer;

      beforeAll(async () => {
        db = await createTestDatabase();
        mock = await startKafkaMock([`${TOPIC}:6`]);
        server = await startTestServer(db, {
          QUEUE_BACKEND: 'stream',
          KAFKA_BROKERS: mock.brokers,
          // Events stay in process: this file is about the queue.
          EVENT_BUS: 'inprocess',
          QUEUE_STREAM_TOPIC: TOPIC,
          // The first join waits for the new consumer group to form (3 s on the mock).
          QUEUE_STREAM_APPLY_WAIT_MS: '10000',
          QUEUE_STREAM_PRODUCE_TIMEOUT_MS: '1000',
          KAFKA_SESSION_TIMEOUT_MS: '4000',
          MAX_ACTIVE: '1',
        });
      });
      afterAll(async () => {
        await server?.close();
        await mock?.stop();
        await db?.drop();
      });

      it('joins, polls, protects and sells as on the other backends; a join the log cannot take answers 503', async () => {
        const { client } = server;
        const first = await client.join(1);
        expect(first.status).toBe(201);
        expect(first.data).toMatchObject({ status: 'ACTIVE', position: 0 });
        expect(first.data.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
        expect(typeof first.data.expiresAt).toBe('string');
        const second = await client.join(2);
        expect(second.status).toBe(201);
        expect(second.data).toMatchObject({ status: 'WAITING', position: 1 });
        expect((await client.status(second.data.token)).data).toMatchObject({
          status: 'WAITING',
          position: 1,
        });
        const refused = await client.concerts(second.data.token);
        expect([refused.status, refused.code]).toEqual([403, 'QUEUE_TOKEN_NOT_ACTIVE']);

        // The ACTIVE shopper holds and pays; the slot goes to the next in line.
        const { concertId, seatIds } = await createConcert(db.pool, { seats: 2, price: 1_000 });
        await setBalance(db.pool, 1, 5_000);
        const held = await client.hold(first.data.token, concertId, seatIds[0]!);
        expect(held.status).toBe(201);
        const paid = await client.pay(first.data.token, seatIds[0]!);
        expect([paid.status, paid.data.price]).toEqual([201, 1_000]);
        expect((await client.status(first.data.token)).data.status).toBe('EXPIRED');
        await client.activeToken(2);

        await mock.command('down -1');
        try {
          const down = await client.join(3);
          expect([down.status, down.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
          // Polls, re-entry of a live token and protected reads do not touch the log.
          expect((await client.status(second.data.token)).data.status).toBe('ACTIVE');
          expect((await client.join(2)).data.token).toBe(second.data.token);
          expect((await client.concerts(second.data.token)).status).toBe(200);
        } finally {
          await mock.command('up -1');
        }
        const back = await client.join(3);
        expect(back.status).toBe(201);
        expect(back.data).toMatchObject({ status: 'WAITING', position: 1 });
        expect(await server.queue.tokenCount(3)).toBe(1);
      });
    });
  });
});

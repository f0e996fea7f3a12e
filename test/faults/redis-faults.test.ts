import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { redisKeys } from '../../src/redis/keys.js';
import type { Reply } from '../support/client.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import {
  describeWithRedisServer,
  startPrivateRedis,
  type PrivateRedis,
} from '../support/redis-server.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Redis stopped, restarted and flushed in the middle of traffic (a private redis-server, never the
 * machine's). Proves: no reply is ever a 500 — queue calls answer 503 while Redis is away — the
 * process recovers by itself when Redis returns, payments committed in PostgreSQL are untouched,
 * and after a flush the documented behaviour holds: every token is unknown (401), nobody keeps a
 * place, and joining again lines people up in the order they come back.
 */
describeWithRedisServer('Redis faults under load', () => {
  let db: TestDatabase;
  let redis: PrivateRedis;
  let server: TestServer;
  let concert: ConcertFixture;
  const replies: Reply[] = [];
  const paid = new Set<number>();

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startPrivateRedis();
    server = await startTestServer(db, {
      QUEUE_BACKEND: 'redis',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'faults',
      REDIS_COMMAND_TIMEOUT_MS: '300',
      MAX_ACTIVE: '1000',
    });
    concert = await createConcert(db.pool, { seats: 200, price: 1_000 });
  });
  afterAll(async () => {
    await server?.close();
    await redis?.dispose();
    await db?.drop();
  });

  /** Buyers keep coming: join, poll, hold a seat of their own, pay. Every reply is recorded. */
  function traffic(firstUser: number) {
    let running = true;
    let user = firstUser;
    const record = <T>(reply: Reply<T>) => {
      replies.push(reply);
      return reply;
    };
    /** One visit; false when the waiting room was unavailable and the buyer should come back. */
    const visit = async (userId: number, seatIndex: number): Promise<boolean> => {
      const joined = record(await server.client.join(userId));
      if (joined.status !== 201) return false;
      const polled = record(await server.client.status(joined.data.token));
      if (polled.status !== 200 || polled.data.status !== 'ACTIVE') return false;
      const hold = record(
        await server.client.hold(joined.data.token, concert.concertId, concert.seatIds[seatIndex]!),
      );
      if (hold.status !== 201 && hold.status !== 200) return false;
      const payment = record(
        await server.client.pay(joined.data.token, concert.seatIds[seatIndex]!),
      );
      if (payment.status === 201) paid.add(userId);
      return payment.status === 201;
    };
    const loops = Array.from({ length: 4 }, async () => {
      while (running && user < firstUser + 190) {
        const userId = user++;
        await setBalance(db.pool, userId, 1_000);
        // A buyer turned away by an outage comes back until the test ends.
        while (!(await visit(userId, userId - firstUser)) && running) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    });
    return async () => {
      running = false;
      await Promise.all(loops);
    };
  }

  it('answers 503 while Redis is down, recovers when it returns, and never loses a payment', async () => {
    const stop = traffic(1_000);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const duringOutage = replies.length;
    await redis.start();
    // Recovers by itself: joins succeed again within a few seconds.
    await expect
      .poll(async () => (await server.client.join(900)).status, { timeout: 10_000, interval: 200 })
      .toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await stop();

    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status >= 500 && status !== 503)).toEqual([]);
    expect(
      replies
        .filter((reply) => reply.status === 503)
        .every((reply) => reply.code === 'SERVICE_UNAVAILABLE'),
    ).toBe(true);
    expect(statuses.filter((status) => status === 503).length).toBeGreaterThan(0);
    expect(replies.length).toBeGreaterThan(duringOutage);
    expect(paid.size).toBeGreaterThan(0);
    const reserved = await db.pool.query<{ user_id: string }>(`SELECT user_id FROM reservations`);
    expect(new Set(reserved.rows.map((row) => Number(row.user_id)))).toEqual(paid);
    expect(await invariantViolations(db.pool)).toEqual([]);
    expect((await server.client.call('GET', '/health/ready')).status).toBe(200);
  });

  it('after FLUSHALL every token is unknown and people line up again in the order they come back', async () => {
    const a = (await server.client.join(2_001)).data.token;
    const b = (await server.client.join(2_002)).data.token;
    expect((await server.client.status(a)).status).toBe(200);
    const flusher = new Redis(redis.url);
    await flusher.flushall();
    flusher.disconnect();
    for (const token of [a, b]) {
      const reply = await server.client.status(token);
      expect([reply.status, reply.code]).toEqual([401, 'QUEUE_TOKEN_INVALID']);
    }
    const second = await server.client.join(2_002);
    const first = await server.client.join(2_001);
    expect(second.status).toBe(201);
    expect(second.data.token).not.toBe(b);
    const stored = new Redis(redis.url);
    try {
      const arrival = async (token: string) =>
        (
          JSON.parse((await stored.hget(redisKeys('faults').queue.tokens, token)) ?? '{}') as {
            q?: number;
          }
        ).q;
      expect(await arrival(second.data.token)).toBeLessThan((await arrival(first.data.token))!);
    } finally {
      stored.disconnect();
    }
    expect(await invariantViolations(db.pool)).toEqual([]);
  });
});

import type { RedisClient } from '../../src/redis/client.js';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/redis/keys.js';
import { postgresAvailable, transactionCount } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { closeRedis, connectTestRedis, redisAvailable } from '../support/redis.js';
import { startTestServer, type Overrides, type TestServer } from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

/**
 * The seat-hold gate in front of the database (Redis waiting room, so a hold request costs the
 * database nothing but its hold transaction). A storm of holds on one seat: exactly one wins and
 * the database sees about one transaction instead of one per request; with the gate broken on
 * purpose (a 1 ms TTL, or the key deleted while holds are in flight) more attempts reach the
 * database, and it still lets exactly one hold through.
 */
describe.skipIf(!postgresAvailable || !redisAvailable)('seat-hold gate (Redis)', () => {
  const db = useTestDatabase();
  let redis: RedisClient;
  let server: TestServer | undefined;
  let nextUser = 1;

  beforeAll(async () => {
    redis = await connectTestRedis();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(async () => {
    await closeRedis(redis);
  });

  /** A server whose only database work during a storm is the holds themselves. */
  const start = async (overrides: Overrides = {}) => {
    server = await startTestServer(db, {
      QUEUE_BACKEND: 'redis',
      MAX_ACTIVE: '1000',
      OUTBOX_INTERVAL_MS: '60000',
      DELIVERY_INTERVAL_MS: '60000',
      ...overrides,
    });
    return server;
  };

  const activeTokens = async (running: TestServer, count: number) => {
    const users = Array.from({ length: count }, () => nextUser++);
    const tokens = await Promise.all(users.map((user) => running.client.activeToken(user)));
    return users.map((user, i) => ({ user, token: tokens[i]! }));
  };

  const transactions = () => transactionCount(db.url);

  const storm = async (
    running: TestServer,
    buyers: { token: string }[],
    concert: ConcertFixture,
    seatId: number,
  ) => {
    const replies = await Promise.all(
      buyers.map(({ token }) => running.client.hold(token, concert.concertId, seatId)),
    );
    const codes = replies.map((reply) => `${reply.status} ${reply.code}`);
    const held = await db.pool.query<{ user_id: string }>(
      `SELECT user_id FROM seat_holds WHERE seat_id = $1 AND status = 'HELD'`,
      [seatId],
    );
    return { replies, codes, holders: held.rows.map((row) => Number(row.user_id)) };
  };

  const count = (codes: string[], code: string) => codes.filter((each) => each === code).length;

  it('lets one of 200 concurrent holds on a seat through, at the cost of about one database transaction', async () => {
    const running = await start();
    const concert = await createConcert(db.pool, { seats: 2 });
    const buyers = await activeTokens(running, 200);
    const before = await transactions();
    const began = Date.now();
    const { replies, codes, holders } = await storm(running, buyers, concert, concert.seatIds[0]!);
    const gated = (await transactions()) - before;
    // The instance's own loops (the rooms' settings reload, every 500 ms) also commit: counted
    // over an idle stretch as long as the storm, and taken off.
    const idleFrom = await transactions();
    await new Promise((resolve) => setTimeout(resolve, Date.now() - began));
    const background = (await transactions()) - idleFrom;

    expect(count(codes, '201 SUCCESS')).toBe(1);
    expect(count(codes, '409 SEAT_ALREADY_HELD')).toBe(199);
    const winner = buyers[replies.findIndex((reply) => reply.status === 201)]!;
    expect(holders).toEqual([winner.user]);
    // The winner's transaction, the counter reads and little else: not one per request.
    expect(gated - background).toBeLessThanOrEqual(10);

    // The same storm without the gate: every request is a database transaction.
    await running.close();
    server = undefined;
    const ungated = await start({ SEAT_GATE_ENABLED: 'false' });
    const others = await activeTokens(ungated, 200);
    const start2 = await transactions();
    const second = await storm(ungated, others, concert, concert.seatIds[1]!);
    const plain = (await transactions()) - start2;
    expect(count(second.codes, '201 SUCCESS')).toBe(1);
    expect(count(second.codes, '409 SEAT_ALREADY_HELD')).toBe(199);
    expect(second.holders).toHaveLength(1);
    expect(plain).toBeGreaterThanOrEqual(150);
  });

  it('answers exactly as the database would when nothing runs concurrently: repeat, replay, release, sale', async () => {
    const running = await start();
    const concert = await createConcert(db.pool, { seats: 3 });
    const seatId = concert.seatIds[0]!;
    const [holder, other, third] = await activeTokens(running, 3);
    const key = randomUUID();
    const first = await running.client.hold(holder!.token, concert.concertId, seatId, key);
    expect(first.status).toBe(201);
    const gateKey = redisKeys(running.container.config.REDIS_KEY_PREFIX).seatGate(
      concert.concertId,
      seatId,
    );
    // Released after the transaction: nothing stays in front of the seat for later requests.
    expect(await redis.exists(gateKey)).toBe(0);

    const repeat = await running.client.hold(holder!.token, concert.concertId, seatId);
    expect([repeat.status, repeat.data.expiresAt]).toEqual([201, first.data.expiresAt]);
    const replay = await running.client.hold(holder!.token, concert.concertId, seatId, key);
    // A replay answers as the first request did (README: one replay rule), marked Replayed.
    expect([replay.status, replay.message, replay.data]).toEqual([201, 'Replayed', first.data]);
    const refused = await running.client.hold(other!.token, concert.concertId, seatId);
    expect([refused.status, refused.code]).toEqual([409, 'SEAT_ALREADY_HELD']);

    // A release is seen by the very next request.
    expect((await running.client.release(holder!.token, concert.concertId)).status).toBe(200);
    const next = await running.client.hold(other!.token, concert.concertId, seatId);
    expect(next.status).toBe(201);
    // The new holder pays; the seat is sold for everyone after at once.
    await setBalance(db.pool, other!.user, 100_000);
    expect((await running.client.pay(other!.token, seatId)).status).toBe(201);
    const sold = await running.client.hold(third!.token, concert.concertId, seatId);
    expect([sold.status, sold.code]).toEqual([409, 'SEAT_ALREADY_RESERVED']);
  });

  it("lets the holder through while another user's attempt on the seat is being decided", async () => {
    const running = await start();
    const concert = await createConcert(db.pool, { seats: 1 });
    const seatId = concert.seatIds[0]!;
    const gateKey = redisKeys(running.container.config.REDIS_KEY_PREFIX).seatGate(
      concert.concertId,
      seatId,
    );
    const [holder, ...others] = await activeTokens(running, 41);
    const first = await running.client.hold(holder!.token, concert.concertId, seatId);
    expect(first.status).toBe(201);

    // The seat's row is locked here, so the attempt that takes the gate stays undecided.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM seat_holds WHERE seat_id = $1 FOR UPDATE', [seatId]);
      const theirs = Promise.all(
        others.map(({ token }) => running.client.hold(token, concert.concertId, seatId)),
      );
      await expect
        .poll(async () => (await redis.get(gateKey)) ?? '', { timeout: 3_000 })
        .toMatch(/^[0-9]+:/);
      // The holder asks again while another user's attempt is deciding: not refused by the gate.
      let answered = false;
      const mine = running.client.hold(holder!.token, concert.concertId, seatId).finally(() => {
        answered = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(answered).toBe(false);
      await blocker.query('ROLLBACK');
      const [repeat, refused] = await Promise.all([mine, theirs]);
      expect([repeat.status, repeat.data.expiresAt]).toEqual([201, first.data.expiresAt]);
      expect(refused.map((reply) => reply.code)).toEqual(others.map(() => 'SEAT_ALREADY_HELD'));
    } finally {
      await blocker.end();
    }
  });

  it('lock loss by expiry: with a 1 ms gate, many attempts reach the database and exactly one holds', async () => {
    const running = await start({ SEAT_GATE_TTL_MS: '1' });
    const concert = await createConcert(db.pool, { seats: 1 });
    const buyers = await activeTokens(running, 100);
    const before = await transactions();
    const { codes, holders } = await storm(running, buyers, concert, concert.seatIds[0]!);
    const reached = (await transactions()) - before;
    expect(count(codes, '201 SUCCESS')).toBe(1);
    expect(count(codes, '409 SEAT_ALREADY_HELD')).toBe(99);
    expect(holders).toHaveLength(1);
    // The gate did not hold: the database decided between many concurrent attempts.
    expect(reached).toBeGreaterThanOrEqual(10);
  });

  it('lock loss by deletion: the gate key deleted over and over while holds are in flight → still one hold', async () => {
    const running = await start();
    const concert = await createConcert(db.pool, { seats: 1 });
    const seatId = concert.seatIds[0]!;
    const buyers = await activeTokens(running, 100);
    const gateKey = redisKeys(running.container.config.REDIS_KEY_PREFIX).seatGate(
      concert.concertId,
      seatId,
    );
    let breaking = true;
    let deleted = 0;
    const breaker = (async () => {
      while (breaking) deleted += await redis.del(gateKey);
    })();
    const before = await transactions();
    const { codes, holders } = await storm(running, buyers, concert, seatId);
    breaking = false;
    await breaker;
    const reached = (await transactions()) - before;
    expect(deleted).toBeGreaterThan(0);
    expect(count(codes, '201 SUCCESS')).toBe(1);
    expect(count(codes, '409 SEAT_ALREADY_HELD')).toBe(99);
    expect(holders).toHaveLength(1);
    expect(reached).toBeGreaterThanOrEqual(2);
  });
});

import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { testQueueBackend } from '../support/queue-backend.js';
import { startTestServer, type TestServer } from '../support/server.js';

// TEST_QUEUE_BACKEND=redis runs this file on the Redis waiting room; what differs between the
// backends (arrival order, token counts, moving time) goes through server.queue.
describeWithPostgres(`waiting room (${testQueueBackend()} backend)`, () => {
  let db: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await server?.close();
    await db.pool.query(
      `TRUNCATE queue_tokens, seat_holds, reservations, point_transactions, users, outbox, idempotency_keys, processed_events, concert_ranking`,
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  const start = async (overrides: Record<string, string> = {}) => {
    server = await startTestServer(db, overrides);
    return server.client;
  };

  it('gives an unguessable token and returns the same token and place on re-entry', async () => {
    const client = await start({ MAX_ACTIVE: '1' });
    const first = await client.join(1);
    const second = await client.join(2);
    expect(first.data.status).toBe('ACTIVE');
    expect(second.data).toMatchObject({ status: 'WAITING', position: 1 });
    expect(second.data.token).not.toBe(first.data.token);
    expect(second.data.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(second.data.token, 'base64url')).toHaveLength(24);

    const again = await Promise.all([client.join(2), client.join(2), client.join(2)]);
    // Answered as the first join was (201, the seed's status), like every replay.
    for (const reply of again) expect(reply.status).toBe(201);
    for (const reply of again)
      expect(reply.data).toMatchObject({
        token: second.data.token,
        status: 'WAITING',
        position: 1,
      });
    expect(await server.queue.tokenCount(2)).toBe(1);
  });

  it('keeps strict arrival order with exact positions, and refills a freed slot at once', async () => {
    const client = await start({ MAX_ACTIVE: '2' });
    const tokens: string[] = [];
    for (let user = 1; user <= 6; user++) tokens.push((await client.join(user)).data.token);
    const statuses = await Promise.all(tokens.map((token) => client.status(token)));
    expect(statuses.map((s) => s.data.status)).toEqual([
      'ACTIVE',
      'ACTIVE',
      'WAITING',
      'WAITING',
      'WAITING',
      'WAITING',
    ]);
    expect(statuses.map((s) => s.data.position)).toEqual([0, 0, 1, 2, 3, 4]);

    // The 4th in line leaves: everyone behind moves up by one.
    expect((await client.leave(tokens[3]!)).status).toBe(200);
    expect((await client.status(tokens[4]!)).data.position).toBe(2);
    expect((await client.status(tokens[5]!)).data.position).toBe(3);

    // An ACTIVE user leaves: the head of the line is admitted at once (well within a second).
    const left = Date.now();
    await client.leave(tokens[0]!);
    await expect
      .poll(async () => (await client.status(tokens[2]!)).data.status, {
        timeout: 1000,
        interval: 20,
      })
      .toBe('ACTIVE');
    expect(Date.now() - left).toBeLessThan(1000);
    expect((await client.status(tokens[4]!)).data.position).toBe(1);
    expect((await client.status(tokens[0]!)).data.status).toBe('EXPIRED');
  });

  it('60 users with room for 50: the first 50 by arrival are ACTIVE, the rest wait 1–10; a payment admits position 1 within a second', async () => {
    const client = await start({ MAX_ACTIVE: '50' });
    const joined = await Promise.all(Array.from({ length: 60 }, (_, i) => client.join(1000 + i)));
    expect(joined.every((reply) => reply.status === 201)).toBe(true);
    // Arrival order is the order the backend sequenced the joins.
    const byArrival = await server.queue.arrivalOrder();
    expect(byArrival).toHaveLength(60);
    const statuses = await Promise.all(byArrival.map((token) => client.status(token)));
    expect(
      statuses.slice(0, 50).every((s) => s.data.status === 'ACTIVE' && s.data.position === 0),
    ).toBe(true);
    expect(statuses.slice(50).map((s) => [s.data.status, s.data.position])).toEqual(
      Array.from({ length: 10 }, (_, i) => ['WAITING', i + 1]),
    );

    const concert = await createConcert(db.pool, { seats: 1, price: 1_000 });
    const payer = joined.find((reply) => reply.data.token === byArrival[0])!;
    const payerUser = 1000 + joined.indexOf(payer);
    await setBalance(db.pool, payerUser, 1_000);
    expect((await client.hold(byArrival[0]!, concert.concertId, concert.seatIds[0]!)).status).toBe(
      201,
    );
    const paidAt = Date.now();
    expect((await client.pay(byArrival[0]!, concert.seatIds[0]!)).status).toBe(201);
    await expect
      .poll(async () => (await client.status(byArrival[50]!)).data.status, {
        timeout: 1000,
        interval: 20,
      })
      .toBe('ACTIVE');
    expect(Date.now() - paidAt).toBeLessThan(1000);
    expect((await client.status(byArrival[51]!)).data.position).toBe(1);
    expect(await invariantViolations(db.pool, { maxActive: 50, queue: server.queue })).toEqual([]);
    expect(await server.queue.activeCount()).toBe(50);
  });

  it('expires ACTIVE tokens after their lifetime and frees the slot; an expired token is never revived', async () => {
    const client = await start({ MAX_ACTIVE: '1', ACTIVE_TOKEN_TTL_SECONDS: '60' });
    const first = (await client.join(1)).data.token;
    const second = (await client.join(2)).data.token;
    await server.queue.travel(61);
    await expect
      .poll(async () => (await client.status(second)).data.status, { timeout: 2000 })
      .toBe('ACTIVE');
    expect((await client.status(first)).data.status).toBe('EXPIRED');
    expect((await client.concerts(first)).code).toBe('QUEUE_TOKEN_EXPIRED');
    // Joining again gives a new token at the back of the line.
    const rejoined = await client.join(1);
    expect(rejoined.data.token).not.toBe(first);
    expect(rejoined.data).toMatchObject({ status: 'WAITING', position: 1 });
    expect((await client.status(first)).data.status).toBe('EXPIRED');
  });

  it('expires WAITING tokens not polled within the idle lifetime; polling keeps them', async () => {
    const client = await start({ MAX_ACTIVE: '1', WAITING_TOKEN_IDLE_SECONDS: '100' });
    await client.join(1);
    const polled = (await client.join(2)).data.token;
    const idle = (await client.join(3)).data.token;
    await server.queue.travel(60);
    expect((await client.status(polled)).data).toMatchObject({ status: 'WAITING', position: 1 });
    await server.queue.travel(60);
    // 120 s since idle's last poll, 60 s since polled's.
    await expect
      .poll(async () => (await client.status(idle)).data.status, { timeout: 2000 })
      .toBe('EXPIRED');
    expect((await client.status(polled)).data).toMatchObject({ status: 'WAITING', position: 1 });
  });

  it("answers unknown, malformed and missing tokens with 401, and another user's Client-Id with 403", async () => {
    const client = await start();
    const token = (await client.join(9)).data.token;
    expect((await client.status('A'.repeat(32))).code).toBe('QUEUE_TOKEN_INVALID');
    expect((await client.status('A'.repeat(32))).status).toBe(401);
    expect((await client.status('not a token')).status).toBe(401);
    const missing = await client.call('GET', '/api/v1/queue/token');
    expect([missing.status, missing.code]).toEqual([401, 'QUEUE_TOKEN_REQUIRED']);
    const mismatch = await client.call('GET', '/api/v1/queue/token', {
      headers: { 'queue-token': token, 'client-id': '10' },
    });
    expect([mismatch.status, mismatch.code]).toEqual([403, 'QUEUE_TOKEN_USER_MISMATCH']);
    const matching = await client.call('GET', '/api/v1/queue/token', {
      headers: { 'queue-token': token, 'client-id': '9' },
    });
    expect(matching.status).toBe(200);
  });

  it('refuses a WAITING token on every route behind the queue', async () => {
    const client = await start({ MAX_ACTIVE: '1' });
    await client.join(1);
    const waiting = (await client.join(2)).data.token;
    const replies = await Promise.all([
      client.concerts(waiting),
      client.seats(waiting, 1),
      client.hold(waiting, 1, 1),
      client.release(waiting, 1),
      client.pay(waiting, 1),
    ]);
    for (const reply of replies)
      expect([reply.status, reply.code]).toEqual([403, 'QUEUE_TOKEN_NOT_ACTIVE']);
  });
});

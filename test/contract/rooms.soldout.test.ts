import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithPostgres, postgresAvailable } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { redisAvailable } from '../support/redis.js';
import { openStream } from '../support/sse.js';
import { useTestDatabase } from '../support/suite.js';

const KEY = 'soldout-test-operator-key-0123456789abcdef';

/** Polls `read` until `done` holds or `ms` pass; returns the last value and when it held. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 1_000) {
  const started = performance.now();
  let value = await read();
  while (!done(value) && performance.now() - started < ms) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return { value, held: done(value), after: performance.now() - started };
}

/**
 * Sold-out honesty (issue 15 item 7, decision 0057) through the whole server, on each queue
 * backend: the last seat sold tells the line SOLD_OUT within a second (poll and live stream) and
 * admits nobody — not even into the slot the last buyer's payment freed; a seat coming back makes
 * the same entries WAITING again in the same places and admits the head of the line.
 */
const soldOutSuite = (backend: 'postgres' | 'redis' | 'stream') => () => {
  const db = useTestDatabase();
  let server: TestServer;
  let concert: ConcertFixture;
  beforeAll(async () => {
    server = await startTestServer(db, { QUEUE_BACKEND: backend, OPERATOR_KEY: KEY });
    concert = await createConcert(db.pool, { seats: 2, price: 1_000 });
    const created = await server.client.call('POST', '/api/v1/admin/rooms', {
      headers: { authorization: `Bearer ${KEY}` },
      body: { concertId: concert.concertId, maxActive: 1 },
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
  });

  const join = (userId: number) =>
    server.client.call<{ token: string; status: string; position: number }>(
      'POST',
      '/api/v1/queue/token',
      { headers: { 'client-id': String(userId) }, body: { concertId: concert.concertId } },
    );
  const place = async (token: string) => {
    const { data } = await server.client.status(token);
    return `${data.status}:${data.position}`;
  };
  const room = async () =>
    (
      await server.client.call<{ soldOut: boolean; seatsLeft: number; active: number }>(
        'GET',
        `/api/v1/queue/rooms/${concert.concertId}`,
      )
    ).data;

  it('sells the last seat: the line is SOLD_OUT within a second, pushed live, nobody admitted; a seat back resumes in line order', async () => {
    const [seatA, seatB] = concert.seatIds as [number, number];
    const buyer = await join(1);
    const shopping = await until(
      () => place(buyer.data.token),
      (p) => p === 'ACTIVE:0',
    );
    expect(shopping.held).toBe(true);
    const second = await join(2);
    const third = await join(3);
    expect([await place(second.data.token), await place(third.data.token)]).toEqual([
      'WAITING:1',
      'WAITING:2',
    ]);
    const stream = await openStream(`${server.url}/api/v1/queue/token/stream`, {
      'queue-token': third.data.token,
    });
    expect(stream.status).toBe(200);
    // Seat B was sold before (a sale row of another buyer); the buyer pays the last one, A.
    await db.pool.query(
      `INSERT INTO seat_holds (seat_id, concert_id, user_id, hold_uuid, status, expires_at)
       VALUES ($1, $2, 99, $3, 'SOLD', now())`,
      [seatB, concert.concertId, randomUUID()],
    );
    await setBalance(db.pool, 1, 10_000);
    expect((await server.client.hold(buyer.data.token, concert.concertId, seatA)).status).toBe(201);
    const paid = await server.client.pay(buyer.data.token, seatA);
    expect(paid.status).toBe(201);

    const told = await until(
      async () => [await place(second.data.token), await place(third.data.token)],
      (p) => p[0] === 'SOLD_OUT:1' && p[1] === 'SOLD_OUT:2',
    );
    expect(told.value).toEqual(['SOLD_OUT:1', 'SOLD_OUT:2']);
    await stream.waitFor((block) => block.data?.includes('"SOLD_OUT"') ?? false, 1_500);
    expect(await room()).toMatchObject({ soldOut: true, seatsLeft: 0, active: 0 });
    // The freed slot stays empty: nobody is admitted into a sold-out sale.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await place(second.data.token)).toBe('SOLD_OUT:1');
    // A join now is on the waiting list, told at once.
    const late = await join(4);
    expect([late.status, late.data.status, late.data.position]).toEqual([201, 'SOLD_OUT', 3]);

    // Seat B comes back (what a refund does to its sale row): the line resumes in order.
    await db.pool.query(`DELETE FROM seat_holds WHERE seat_id = $1`, [seatB]);
    const resumed = await until(
      async () => [
        await place(second.data.token),
        await place(third.data.token),
        await place(late.data.token),
      ],
      // The admission statement may admit the head (it checks the seats itself) before this
      // instance's next run has read the flags again: the others turn WAITING by that run.
      (p) => p[0] === 'ACTIVE:0' && !p.some((state) => state.startsWith('SOLD_OUT')),
    );
    expect(resumed.value).toEqual(['ACTIVE:0', 'WAITING:1', 'WAITING:2']);
    await stream.waitFor((block) => block.data?.includes('"WAITING"') ?? false, 1_500, 1);
    expect(await room()).toMatchObject({ soldOut: false, seatsLeft: 1 });
    stream.close();
  });
};

const describeWithRedisAndPostgres = describe.skipIf(!postgresAvailable || !redisAvailable);

describeWithPostgres('sold out (postgres backend)', soldOutSuite('postgres'));
describeWithRedisAndPostgres('sold out (redis backend)', soldOutSuite('redis'));
describeWithRedisAndPostgres('sold out (stream backend)', soldOutSuite('stream'));

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueBackend } from '../support/queue-backend.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { describeWithKafka } from '../support/kafka.js';
import { describeWithRedis } from '../support/redis.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { openStream, type LiveState, type StreamBlock } from '../support/sse.js';

const KEY = 'room-figures-test-operator-key-0123456789';
const STREAM = '/api/v1/queue/token/stream';

interface Place {
  token: string;
  status: string;
  position: number;
  concertId: number | null;
  ahead: number;
  seatsLeft: number | null;
}

const stateOf = (block: StreamBlock): LiveState | undefined =>
  block.data === undefined ? undefined : (JSON.parse(block.data) as LiveState);

/**
 * What a waiting buyer is told beside their place (issue 15 item 6, decision 0058), on one queue
 * backend: `ahead` and `seatsLeft` of the token's own room in the join answer, GET
 * /api/v1/queue/token and the live stream; null seats for the house room; a sale pushes the new
 * seats left to the stream.
 */
function roomFigures(backend: QueueBackend): void {
  let db: TestDatabase;
  let server: TestServer;
  let concert: ConcertFixture;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db, { QUEUE_BACKEND: backend, OPERATOR_KEY: KEY });
    concert = await createConcert(db.pool, { seats: 5, price: 10_000 });
    const created = await server.client.call('POST', '/api/v1/admin/rooms', {
      headers: { authorization: `Bearer ${KEY}` },
      body: { concertId: concert.concertId, maxActive: 1 },
    });
    expect(created.status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  const join = (userId: number, body?: unknown) =>
    server.client.call<Place>('POST', '/api/v1/queue/token', {
      headers: { 'client-id': String(userId) },
      body,
    });

  it('tells each waiting buyer the people ahead and the seats left of their room, and pushes a sale', async () => {
    const room = { concertId: concert.concertId };
    const first = await join(1, room);
    expect(first.data).toMatchObject({ status: 'ACTIVE', ahead: 0, seatsLeft: 5 });
    const second = await join(2, room);
    const third = await join(3, room);
    expect(second.data).toMatchObject({ status: 'WAITING', position: 1, ahead: 0, seatsLeft: 5 });
    expect(third.data).toMatchObject({ status: 'WAITING', position: 2, ahead: 1, seatsLeft: 5 });
    const polled = await server.client.call<Place>('GET', '/api/v1/queue/token', {
      headers: { 'queue-token': third.data.token },
    });
    expect(polled.data).toMatchObject({
      status: 'WAITING',
      position: 2,
      ahead: 1,
      seatsLeft: 5,
      concertId: concert.concertId,
    });
    expect(Object.keys(polled.data).sort()).toEqual(
      [
        'ahead',
        'concertId',
        'expiresAt',
        'opensAt',
        'position',
        'receiptId',
        'seatsLeft',
        'status',
      ].sort(),
    );
    // The house room serves every concert without a room: no one figure of seats left.
    const house = await join(3);
    expect(house.data).toMatchObject({ concertId: null, seatsLeft: null });

    const live = await openStream(`${server.url}${STREAM}`, {
      'queue-token': third.data.token,
      accept: 'text/event-stream',
    });
    try {
      await live.waitFor((block) => block.data !== undefined, 5_000);
      expect(live.states()[0]).toMatchObject({
        status: 'WAITING',
        position: 2,
        ahead: 1,
        seatsLeft: 5,
        concertId: concert.concertId,
      });
      // The shopper buys a seat: the stream behind shows one seat less (and moves up a place).
      const held = await server.client.hold(
        first.data.token,
        concert.concertId,
        concert.seatIds[0]!,
      );
      expect(held.status).toBe(201);
      await setBalance(db.pool, 1, 50_000);
      expect((await server.client.pay(first.data.token, concert.seatIds[0]!)).status).toBe(201);
      const sold = await live.waitFor((block) => stateOf(block)?.seatsLeft === 4, 5_000);
      expect(stateOf(sold)).toMatchObject({ status: 'WAITING', position: 1, ahead: 0 });
    } finally {
      live.close();
    }
  }, 60_000);
}

describeWithPostgres('room figures for waiting buyers', () => {
  describe('postgres backend', () => roomFigures('postgres'));
  describeWithRedis('redis backend', () => roomFigures('redis'));
  describeWithRedis('', () => {
    describeWithKafka('stream backend', () => roomFigures('stream'));
  });
});

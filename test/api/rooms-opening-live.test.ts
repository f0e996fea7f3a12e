import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { testQueueBackend } from '../support/queue-backend.js';
import { openStream, type LiveState } from '../support/sse.js';
import { useTestServer } from '../support/suite.js';

const KEY = 'rooms-opening-live-test-operator-key-012345';
const operator = { authorization: `Bearer ${KEY}` };
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

interface Joined {
  token: string;
  status: string;
  receiptId: string | null;
  opensAt: string | null;
}

/**
 * The live stream of a pre-queue token (GET /api/v1/queue/token/stream, issue 15 items 4 and 7):
 * like a WAITING token's, it gives the current state at once (PRE_QUEUE with its receipt and the
 * opening) and then pushes every change without the client polling — SOLD_OUT when the sale sells
 * out before the opening (and back to PRE_QUEUE when a seat comes back), its drawn place (WAITING)
 * or ACTIVE after the opening. Before, the stream did not know pre-queue tokens at all.
 */
describeWithPostgres(`pre-queue live streams (${testQueueBackend()} waiting room)`, () => {
  const { db, server } = useTestServer({
    OPERATOR_KEY: KEY,
    ADMISSION_INTERVAL_MS: '100',
    // Ticks 10 s apart: what arrives below is pushed by a wake-up (a draw's move, a sold-out flip).
    SSE_INTERVAL_MS: '10000',
  });

  const setUp = async (seats: number, opensInSeconds: number) => {
    const concert = await createConcert(db.pool, { seats, price: 1_000 });
    const opensAt = inSeconds(opensInSeconds);
    const created = await server.client.call('POST', '/api/v1/admin/rooms', {
      headers: operator,
      body: { concertId: concert.concertId, opensAt, maxActive: 1 },
    });
    expect(created.status).toBe(201);
    return { concert, opensAt };
  };
  const join = async (userId: number, concertId: number) => {
    const joined = await server.client.call<Joined>('POST', '/api/v1/queue/token', {
      headers: { 'client-id': String(userId) },
      body: { concertId },
    });
    expect([joined.status, joined.data.status]).toEqual([201, 'PRE_QUEUE']);
    return joined.data;
  };
  const stream = (token: string) =>
    openStream(`${server.url}/api/v1/queue/token/stream`, { 'queue-token': token });
  const stateOf = (data: string | undefined) =>
    data === undefined ? undefined : (JSON.parse(data) as LiveState);

  it('gives PRE_QUEUE at once, then pushes SOLD_OUT and back while the sale sells out before the opening', async () => {
    const { concert, opensAt } = await setUp(1, 120);
    const entry = await join(1, concert.concertId);
    const live = await stream(entry.token);
    expect(live.status).toBe(200);
    await live.waitFor((block) => block.data !== undefined, 2_000);
    expect(live.states()[0]).toMatchObject({
      status: 'PRE_QUEUE',
      position: 0,
      receiptId: entry.receiptId,
      opensAt,
      concertId: concert.concertId,
    });
    // The JSON fallback of the same route says the same.
    const once = await server.client.call<LiveState>('GET', '/api/v1/queue/token/stream', {
      headers: { 'queue-token': entry.token },
    });
    expect([once.status, once.data.status, once.data.receiptId]).toEqual([
      200,
      'PRE_QUEUE',
      entry.receiptId,
    ]);

    // The only seat sold (another buyer's sale row): pushed within a second, no poll.
    const holdUuid = randomUUID();
    await db.pool.query(
      `INSERT INTO seat_holds (seat_id, concert_id, user_id, hold_uuid, status, expires_at)
       VALUES ($1, $2, 99, $3, 'SOLD', now())`,
      [concert.seatIds[0], concert.concertId, holdUuid],
    );
    const from = live.blocks.length;
    const soldOut = await live.waitFor((b) => stateOf(b.data)?.status === 'SOLD_OUT', 1_500, from);
    expect(stateOf(soldOut.data)).toMatchObject({ receiptId: entry.receiptId, position: 0 });
    // The seat back (a refund): PRE_QUEUE again, pushed too.
    await db.pool.query('DELETE FROM seat_holds WHERE hold_uuid = $1', [holdUuid]);
    const back = live.blocks.length;
    await live.waitFor((b) => stateOf(b.data)?.status === 'PRE_QUEUE', 1_500, back);
    live.close();
  });

  it('pushes each drawn place (WAITING) or ACTIVE after the opening, then SOLD_OUT', async () => {
    const { concert } = await setUp(1, 2.5);
    const entries: Joined[] = [];
    for (let user = 11; user <= 13; user++) entries.push(await join(user, concert.concertId));
    const streams = await Promise.all(entries.map((entry) => stream(entry.token)));
    for (const live of streams) {
      await live.waitFor((block) => block.data !== undefined, 2_000);
      expect(live.states()[0]?.status).toBe('PRE_QUEUE');
    }

    // The opening: the draw's first place takes the one slot, the others wait in draw order.
    const draw = async () =>
      (
        await server.client.call<{ receipts: string[] }>(
          'GET',
          `/api/v1/queue/rooms/${concert.concertId}/draw`,
        )
      ).data.receipts;
    await expect.poll(draw, { timeout: 5_000, interval: 100 }).toHaveLength(3);
    const receipts = await draw();
    const placeOf = (entry: Joined) => receipts.indexOf(entry.receiptId!) + 1;
    await Promise.all(
      entries.map((entry, i) =>
        streams[i]!.waitFor((block) => {
          const state = stateOf(block.data);
          return placeOf(entry) === 1
            ? state?.status === 'ACTIVE'
            : state?.status === 'WAITING' && state.position === placeOf(entry) - 1;
        }, 3_000),
      ),
    );

    // The one seat sold to the shopper: the two still waiting are told SOLD_OUT, pushed.
    const shopper = entries.find((entry) => placeOf(entry) === 1)!;
    await setBalance(db.pool, 11 + entries.indexOf(shopper), 10_000);
    const seat = concert.seatIds[0]!;
    expect((await server.client.hold(shopper.token, concert.concertId, seat)).status).toBe(201);
    const counts = streams.map((live) => live.blocks.length);
    expect((await server.client.pay(shopper.token, seat)).status).toBe(201);
    await Promise.all(
      entries
        .filter((entry) => entry !== shopper)
        .map((entry) => {
          const i = entries.indexOf(entry);
          return streams[i]!.waitFor(
            (b) => stateOf(b.data)?.status === 'SOLD_OUT',
            1_500,
            counts[i],
          );
        }),
    );
    for (const live of streams) live.close();
  });
});

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import {
  sharedWaitingRoom,
  startTestServer,
  type SharedWaitingRoom,
  type TestServer,
} from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

const KEY = 'ticket-limit-race-operator-key-0123456789ab';

/**
 * The ticket limit per buyer under concurrency (docs/decisions/0041): two server instances on one
 * database and one waiting room, one buyer's holds fired at both at once; then the trigger alone,
 * with transactions that skip the application's lock.
 */
describeWithPostgres('ticket limit under concurrency', () => {
  const db = useTestDatabase();
  let room: SharedWaitingRoom;
  let servers: TestServer[];
  let nextUser = 8_000;

  beforeAll(async () => {
    room = sharedWaitingRoom();
    const overrides = {
      MAX_ACTIVE: '1000',
      DB_POOL_SIZE: '20',
      OPERATOR_KEY: KEY,
      ...room.overrides,
    };
    servers = [await startTestServer(db, overrides), await startTestServer(db, overrides)];
  });
  afterEach(async () => {
    expect(
      await invariantViolations(db.pool, { maxActive: 1000, queue: servers[0]!.queue }),
    ).toEqual([]);
  });
  afterAll(async () => {
    for (const server of servers ?? []) await server.close();
    await room?.cleanup();
  });

  const concertWithLimit = async (limit: number, seats: number): Promise<ConcertFixture> => {
    const concert = await createConcert(db.pool, { seats, price: 1_000 });
    await db.pool.query('UPDATE concerts SET ticket_limit = $1 WHERE id = $2', [
      limit,
      concert.concertId,
    ]);
    return concert;
  };
  /** The buyer's seats in the concert as the database has them: held (live) and sold. */
  const seatsOf = async (userId: number, concertId: number) =>
    (
      await db.pool.query<{ held: number; sold: number }>(
        `SELECT count(*) FILTER (WHERE h.status = 'HELD' AND h.expires_at > now())::int AS held,
                count(*) FILTER (WHERE h.status = 'SOLD')::int AS sold
         FROM seat_holds h JOIN seats s ON s.id = h.seat_id
         WHERE h.user_id = $1 AND s.concert_id = $2`,
        [userId, concertId],
      )
    ).rows[0]!;
  /** One hold per seat, all at once, alternating between the two instances. */
  const holdAtOnce = (token: string, concertId: number, seatIds: number[]) =>
    Promise.all(seatIds.map((seatId, i) => servers[i % 2]!.client.hold(token, concertId, seatId)));
  const tally = (replies: { status: number; code: string }[]) =>
    replies.reduce<Record<string, number>>((counts, reply) => {
      const key = `${reply.status} ${reply.code}`;
      counts[key] = (counts[key] ?? 0) + 1;
      return counts;
    }, {});

  // Proves: one buyer's simultaneous holds on distinct seats, spread over two instances, never
  // exceed the limit — the trigger counts the buyer's rows under the per-user lock, so each hold
  // sees the others that committed. Without the trigger all 12 would be held.
  it('12 simultaneous holds of one buyer on two instances, limit 3 → exactly 3 held, 9 refused', async () => {
    const { concertId, seatIds } = await concertWithLimit(3, 12);
    const userId = nextUser++;
    const token = await servers[0]!.client.activeToken(userId);
    const replies = await holdAtOnce(token, concertId, seatIds);
    expect(tally(replies)).toEqual({ '201 SUCCESS': 3, '409 TICKET_LIMIT_REACHED': 9 });
    expect(await seatsOf(userId, concertId)).toEqual({ held: 3, sold: 0 });
  });

  // Proves: paid seats count and refunded ones stop counting at their commit, whatever races
  // them. The buyer paid 4 of limit 4; two operator refunds race 8 holds on two instances: the
  // buyer never has more than 4 seats, and holds get only the room the refunds made.
  it('holds racing refunds of a multi-seat order never take the buyer past the limit', async () => {
    const { concertId, seatIds } = await concertWithLimit(4, 12);
    const userId = nextUser++;
    await setBalance(db.pool, userId, 4_000);
    const first = await servers[0]!.client.activeToken(userId);
    await holdAtOnce(first, concertId, seatIds.slice(0, 4));
    const order = await servers[1]!.client.payMany(first, seatIds.slice(0, 4));
    expect([order.status, order.data.total]).toEqual([201, 4_000]);
    const token = await servers[0]!.client.activeToken(userId);
    const refunds = order.data.reservations.slice(0, 2).map((line, i) =>
      servers[i % 2]!.client.call(
        'POST',
        `/api/v1/admin/reservations/${line.reservationId}/cancel`,
        {
          headers: { authorization: `Bearer ${KEY}` },
        },
      ),
    );
    const [refunded, held] = await Promise.all([
      Promise.all(refunds),
      holdAtOnce(token, concertId, seatIds.slice(4, 12)),
    ]);
    expect(refunded.map((reply) => reply.status)).toEqual([200, 200]);
    const counts = tally(held);
    expect((counts['201 SUCCESS'] ?? 0) + (counts['409 TICKET_LIMIT_REACHED'] ?? 0)).toBe(8);
    expect(counts['201 SUCCESS'] ?? 0).toBeLessThanOrEqual(2);
    const seats = await seatsOf(userId, concertId);
    expect(seats).toEqual({ held: counts['201 SUCCESS'] ?? 0, sold: 2 });
    // Once the refunds committed, the room they made is there: a buyer can fill it.
    const after = await holdAtOnce(token, concertId, seatIds.slice(4, 12));
    expect(await seatsOf(userId, concertId)).toEqual({ held: 2, sold: 2 });
    expect(after.filter((reply) => reply.code === 'TICKET_LIMIT_REACHED').length).toBe(6);
  });

  // Proves: the trigger alone is the guard, not the application's lock. Ten transactions write
  // the same buyer's HELD rows straight into seat_holds at once and stay open 200 ms; the
  // trigger's own per-user lock makes each wait for the one before it, so exactly 2 commit.
  // Without that lock every insert would count none of the others (uncommitted) and all ten
  // would commit.
  it('10 raw concurrent inserts past the application, limit 2 → exactly 2 rows, 8 refused by seat_holds_ticket_limit', async () => {
    const { concertId, seatIds } = await concertWithLimit(2, 10);
    const userId = nextUser++;
    const clients = await Promise.all(
      seatIds.map(async () => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        return client;
      }),
    );
    try {
      const outcomes = await Promise.all(
        seatIds.map(async (seatId, i) => {
          const client = clients[i]!;
          await client.query('BEGIN');
          try {
            await client.query(
              `INSERT INTO seat_holds (seat_id, user_id, hold_uuid, status, expires_at)
               VALUES ($1, $2, $3, 'HELD', now() + interval '5 minutes')`,
              [seatId, userId, randomUUID()],
            );
            await client.query('SELECT pg_sleep(0.2)');
            await client.query('COMMIT');
            return 'held';
          } catch (error) {
            await client.query('ROLLBACK');
            return (error as { constraint?: string }).constraint ?? String(error);
          }
        }),
      );
      expect(outcomes.filter((outcome) => outcome === 'held')).toHaveLength(2);
      expect(outcomes.filter((outcome) => outcome === 'seat_holds_ticket_limit')).toHaveLength(8);
      expect(await seatsOf(userId, concertId)).toEqual({ held: 2, sold: 0 });
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });
});

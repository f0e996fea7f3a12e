import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { useTestServer } from '../support/suite.js';

describeWithPostgres('seat holds', () => {
  // Shopping time shorter than a hold, so a hold taken at once outlives the shopping time.
  const { db, server } = useTestServer({
    MAX_ACTIVE: '100',
    SEAT_HOLD_TTL_SECONDS: '300',
    ACTIVE_TOKEN_TTL_SECONDS: '200',
  });
  let concert: ConcertFixture;

  afterEach(async () => {
    expect(await invariantViolations(db.pool, { maxActive: 100, queue: server.queue })).toEqual([]);
    await server.queue.clear();
    await db.pool.query(
      `TRUNCATE seat_holds, reservations, point_transactions, users, outbox, idempotency_keys`,
    );
  });

  const fresh = async () => {
    concert = await createConcert(db.pool, { seats: 5, price: 20_000 });
    return concert;
  };
  const holdRows = () =>
    db.pool.query<{ seat_id: string; user_id: string; status: string }>(
      `SELECT seat_id, user_id, status FROM seat_holds ORDER BY seat_id`,
    );

  it('holds a free seat for the TTL; a repeat request returns the same hold, never extended', async () => {
    const { client } = server;
    const { concertId, seatIds } = await fresh();
    const token = await client.activeToken(1);
    const first = await client.hold(token, concertId, seatIds[0]!);
    expect(first.status).toBe(201);
    const ttl = Date.parse(first.data.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(290_000);
    expect(ttl).toBeLessThanOrEqual(300_000);

    await server.queue.travel(60);
    const repeat = await client.hold(token, concertId, seatIds[0]!);
    expect(repeat.status).toBe(201);
    // The stored expiry moved 60 s back with the travel, and the repeat did not push it forward.
    expect(Date.parse(repeat.data.expiresAt)).toBeLessThanOrEqual(
      Date.parse(first.data.expiresAt) - 59_000,
    );
  });

  it('replays a seatHoldUuid with the original result, and refuses it for a different seat (422)', async () => {
    const { client } = server;
    const { concertId, seatIds } = await fresh();
    const token = await client.activeToken(2);
    const key = randomUUID();
    const first = await client.hold(token, concertId, seatIds[1]!, key);
    const replay = await client.hold(token, concertId, seatIds[1]!, key);
    expect(first.status).toBe(201);
    // A replay answers as the first request did; only the message tells.
    expect(replay.status).toBe(201);
    expect(replay.message).toBe('Replayed');
    expect(replay.data).toEqual(first.data);
    const reused = await client.hold(token, concertId, seatIds[2]!, key);
    expect([reused.status, reused.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    expect((await holdRows()).rows.map((row) => Number(row.seat_id))).toEqual([seatIds[1]]);
  });

  it('keeps one live hold per user: holding another seat releases the previous one', async () => {
    const { client } = server;
    const { concertId, seatIds } = await fresh();
    const token = await client.activeToken(3);
    await client.hold(token, concertId, seatIds[0]!);
    const second = await client.hold(token, concertId, seatIds[3]!);
    expect(second.status).toBe(201);
    const rows = (await holdRows()).rows;
    expect(rows.map((row) => [Number(row.seat_id), row.status])).toEqual([[seatIds[3], 'HELD']]);
    const seats = (await client.seats(token, concertId)).data.availableSeats;
    expect(seats.filter((seat) => !seat.isAvailable).map((seat) => seat.seatId)).toEqual([
      seatIds[3],
    ]);
  });

  it('shows each seat as free, held (a live hold) or sold on the seat map; an expired hold is free', async () => {
    const { client } = server;
    const { concertId, seatIds } = await fresh();
    await setBalance(db.pool, 1, 20_000);
    const buyer = await client.activeToken(1);
    expect((await client.hold(buyer, concertId, seatIds[0]!)).status).toBe(201);
    expect((await client.pay(buyer, seatIds[0]!)).status).toBe(201);
    const holder = await client.activeToken(2);
    expect((await client.hold(holder, concertId, seatIds[1]!)).status).toBe(201);
    const late = await client.activeToken(3);
    expect((await client.hold(late, concertId, seatIds[2]!)).status).toBe(201);
    await db.pool.query(`UPDATE seat_holds SET expires_at = now() WHERE seat_id = $1`, [
      seatIds[2],
    ]);
    const seats = (await client.seats(holder, concertId)).data.availableSeats;
    expect(seats.map((seat) => [seat.state, seat.isAvailable])).toEqual([
      ['sold', false],
      ['held', false],
      ['free', true],
      ['free', true],
      ['free', true],
    ]);
  });

  it('lists a concert as available while a seat is free (an expired hold frees one), not when all are held or sold', async () => {
    const { client } = server;
    const { concertId, seatIds } = await createConcert(db.pool, { seats: 2, price: 20_000 });
    const other = await fresh();
    await setBalance(db.pool, 1, 20_000);
    const buyer = await client.activeToken(1);
    const holder = await client.activeToken(2);
    const available = async () =>
      Object.fromEntries(
        (await client.concerts(holder)).data
          .filter((item) => [concertId, other.concertId].includes(item.concertId))
          .map((item) => [item.concertId, item.isAvailable]),
      );
    expect((await client.hold(buyer, concertId, seatIds[0]!)).status).toBe(201);
    expect((await client.pay(buyer, seatIds[0]!)).status).toBe(201);
    expect(await available()).toEqual({ [concertId]: true, [other.concertId]: true });
    expect((await client.hold(holder, concertId, seatIds[1]!)).status).toBe(201);
    expect(await available()).toEqual({ [concertId]: false, [other.concertId]: true });
    await db.pool.query(`UPDATE seat_holds SET expires_at = now() WHERE seat_id = $1`, [
      seatIds[1],
    ]);
    expect(await available()).toEqual({ [concertId]: true, [other.concertId]: true });
  });

  it('keeps the previous hold when the new seat cannot be had', async () => {
    const { client } = server;
    const { concertId, seatIds } = await fresh();
    const mine = await client.activeToken(4);
    const theirs = await client.activeToken(5);
    await client.hold(theirs, concertId, seatIds[4]!);
    await client.hold(mine, concertId, seatIds[0]!);
    const refused = await client.hold(mine, concertId, seatIds[4]!);
    expect([refused.status, refused.code]).toEqual([409, 'SEAT_ALREADY_HELD']);
    const rows = (await holdRows()).rows.map((row) => [Number(row.seat_id), Number(row.user_id)]);
    expect(rows).toEqual([
      [seatIds[0], 4],
      [seatIds[4], 5],
    ]);
  });

  it('frees an expired hold for the next user, and paying on it then fails with no charge', async () => {
    const { client } = server;
    const { concertId, seatIds } = await fresh();
    const late = await client.activeToken(6);
    const next = await client.activeToken(7);
    await setBalance(db.pool, 6, 50_000);
    await client.hold(late, concertId, seatIds[2]!);
    expect((await client.hold(next, concertId, seatIds[2]!)).code).toBe('SEAT_ALREADY_HELD');
    await server.queue.travel(301);
    // Both tokens are past their shopping time now; give them fresh ones.
    const lateAgain = await client.activeToken(6);
    const nextAgain = await client.activeToken(7);
    expect(
      (await client.seats(nextAgain, concertId)).data.availableSeats.find(
        (s) => s.seatId === seatIds[2],
      )?.isAvailable,
    ).toBe(true);
    const taken = await client.hold(nextAgain, concertId, seatIds[2]!);
    expect(taken.status).toBe(201);
    const pay = await client.pay(lateAgain, seatIds[2]!);
    expect([pay.status, pay.code]).toEqual([409, 'HOLD_REQUIRED']);
    expect((await client.balance(6)).data.balance).toBe(50_000);
  });

  it('reports an expired own hold as HOLD_EXPIRED and charges nothing', async () => {
    const { client } = server;
    const { concertId, seatIds } = await fresh();
    const token = await client.activeToken(8);
    await setBalance(db.pool, 8, 50_000);
    await client.hold(token, concertId, seatIds[1]!);
    await db.pool.query(`UPDATE seat_holds SET expires_at = now() - interval '1 second'`);
    const pay = await client.pay(token, seatIds[1]!);
    expect([pay.status, pay.code]).toEqual([409, 'HOLD_EXPIRED']);
    expect((await client.balance(8)).data.balance).toBe(50_000);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM reservations`)).rows[0]).toEqual({
      n: 0,
    });
  });

  it('releases a hold (DELETE), and answers 404 when there is none', async () => {
    const { client } = server;
    const { concertId, seatIds } = await fresh();
    const token = await client.activeToken(9);
    await client.hold(token, concertId, seatIds[0]!);
    const released = await client.release(token, concertId);
    expect(released.status).toBe(200);
    expect(released.data).toMatchObject({ seatId: seatIds[0] });
    expect((await holdRows()).rows).toEqual([]);
    const again = await client.release(token, concertId);
    expect([again.status, again.code]).toEqual([404, 'HOLD_NOT_FOUND']);
  });

  it('refuses seats that do not exist, belong to another concert, or are sold, and shows that have started', async () => {
    const { client } = server;
    const { concertId, seatIds } = await fresh();
    const other = await createConcert(db.pool, { seats: 1 });
    const past = await createConcert(db.pool, { seats: 1, startsInHours: -1 });
    const token = await client.activeToken(10);
    expect((await client.hold(token, concertId, 987_654)).code).toBe('SEAT_NOT_FOUND');
    expect((await client.hold(token, concertId, other.seatIds[0]!)).code).toBe('SEAT_NOT_FOUND');
    expect((await client.hold(token, 987_654, seatIds[0]!)).code).toBe('CONCERT_NOT_FOUND');
    expect((await client.hold(token, past.concertId, past.seatIds[0]!)).code).toBe('CONCERT_ENDED');
    expect((await client.seats(token, 987_654)).code).toBe('CONCERT_NOT_FOUND');

    const buyer = await client.activeToken(11);
    await setBalance(db.pool, 11, 20_000);
    await client.hold(buyer, concertId, seatIds[0]!);
    expect((await client.pay(buyer, seatIds[0]!)).status).toBe(201);
    const sold = await client.hold(token, concertId, seatIds[0]!);
    expect([sold.status, sold.code]).toEqual([409, 'SEAT_ALREADY_RESERVED']);
    expect((await holdRows()).rows).toEqual([
      { seat_id: String(seatIds[0]), user_id: '11', status: 'SOLD' },
    ]);
  });

  it("keeps the holder's token usable for that concert until the hold expires, but for nothing else", async () => {
    const { client } = server;
    const { concertId, seatIds } = await fresh();
    const other = await createConcert(db.pool, { seats: 2 });
    const token = await client.activeToken(12);
    await setBalance(db.pool, 12, 20_000);
    await client.hold(token, concertId, seatIds[0]!);
    // Shopping time (200 s) ran out 50 s ago; the hold (taken at about the same time) has ~50 s
    // left, and the sweep leaves the token alone.
    await server.queue.travel(250);
    await server.container.admission.admitNow();
    expect((await client.status(token)).data.status).toBe('ACTIVE');
    expect((await client.seats(token, concertId)).status).toBe(200);
    expect((await client.seats(token, other.concertId)).code).toBe('QUEUE_TOKEN_EXPIRED');
    expect((await client.concerts(token)).code).toBe('QUEUE_TOKEN_EXPIRED');
    expect((await client.hold(token, concertId, seatIds[1]!)).code).toBe('QUEUE_TOKEN_EXPIRED');
    const pay = await client.pay(token, seatIds[0]!);
    expect(pay.status).toBe(201);
    expect((await client.status(token)).data.status).toBe('EXPIRED');
  });

  it('ends that grace when the hold expires: the sweep expires the token and frees the slot', async () => {
    const { client } = server;
    const { concertId, seatIds } = await fresh();
    const token = await client.activeToken(13);
    await client.hold(token, concertId, seatIds[0]!);
    // Past the hold's end (300 s) and the Redis backend's sweep delay (2 s after expiresAt, see
    // queue.store.redis.ts), so the sweep itself expires the token on either backend.
    await server.queue.travel(305);
    await server.container.admission.admitNow();
    // Stored as EXPIRED (not only read so): the token's slot is free.
    const stored = (await server.queue.snapshot()).find((entry) => entry.token === token);
    expect(stored?.status).toBe('EXPIRED');
    expect((await client.status(token)).data.status).toBe('EXPIRED');
    expect((await client.pay(token, seatIds[0]!)).code).toBe('QUEUE_TOKEN_EXPIRED');
  });
});

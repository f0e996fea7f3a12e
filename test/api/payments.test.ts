import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { useTestServer } from '../support/suite.js';

describeWithPostgres('payment', () => {
  const { db, server } = useTestServer({ MAX_ACTIVE: '100' });

  afterEach(async () => {
    expect(await invariantViolations(db.pool, { maxActive: 100, queue: server.queue })).toEqual([]);
    await server.queue.clear();
    await db.pool.query(
      `TRUNCATE seat_holds, reservations, point_transactions, users, outbox, idempotency_keys`,
    );
  });

  /** Everything a failed payment must leave exactly as it was. */
  const snapshot = async (userId: number) => {
    const [user, holds, tokens, reservations, ledger, outbox] = await Promise.all([
      db.pool.query(`SELECT balance FROM users WHERE id = $1`, [userId]),
      db.pool.query(`SELECT seat_id, user_id, status, expires_at FROM seat_holds ORDER BY seat_id`),
      // The waiting room on either backend: every token's status and end.
      server.queue.snapshot(),
      db.pool.query(`SELECT id FROM reservations`),
      db.pool.query(`SELECT id FROM point_transactions`),
      db.pool.query(`SELECT id FROM outbox`),
    ]);
    return [
      user.rows,
      holds.rows,
      tokens.map(({ token, status, expiresAt }) => ({ token, status, expiresAt })),
      reservations.rows,
      ledger.rows,
      outbox.rows,
    ];
  };

  it('debits, reserves, writes the ledger and the event, and expires the token in one go', async () => {
    const { client } = server;
    const { concertId, seatIds } = await createConcert(db.pool, { seats: 2, price: 12_000 });
    const token = await client.activeToken(21);
    await setBalance(db.pool, 21, 30_000);
    await client.hold(token, concertId, seatIds[1]!);
    const paid = await client.pay(token, seatIds[1]!);
    expect(paid.status).toBe(201);
    expect(paid.data).toMatchObject({
      concertId,
      seatId: seatIds[1],
      seatNumber: 2,
      price: 12_000,
      balance: 18_000,
    });
    const ledger = await db.pool.query(
      `SELECT type, amount::int, balance_after::int FROM point_transactions ORDER BY id`,
    );
    expect(ledger.rows).toEqual([
      { type: 'CHARGE', amount: 30_000, balance_after: 30_000 },
      { type: 'USE', amount: 12_000, balance_after: 18_000 },
    ]);
    const events = await db.pool.query<{ type: string; key: string; payload: unknown }>(
      `SELECT type, key, payload FROM outbox`,
    );
    expect(events.rows).toHaveLength(1);
    expect(events.rows[0]).toMatchObject({ type: 'reservation.confirmed', key: String(concertId) });
    expect(events.rows[0]?.payload).toMatchObject({
      concertId,
      seatId: seatIds[1],
      userId: 21,
      price: 12_000,
    });
    expect((await client.status(token)).data.status).toBe('EXPIRED');
  });

  it('replays a reservationUuid with the original reservation and never charges again', async () => {
    const { client } = server;
    const { concertId, seatIds } = await createConcert(db.pool, { seats: 1, price: 5_000 });
    const token = await client.activeToken(22);
    await setBalance(db.pool, 22, 20_000);
    await client.hold(token, concertId, seatIds[0]!);
    const key = randomUUID();
    const first = await client.pay(token, seatIds[0]!, key);
    const replay = await client.pay(token, seatIds[0]!, key);
    expect(first.status).toBe(201);
    expect([replay.status, replay.message]).toEqual([201, 'Replayed']);
    expect(replay.data).toEqual(first.data);
    expect((await client.balance(22)).data.balance).toBe(15_000);
    const other = await client.pay(token, 424242, key);
    expect([other.status, other.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
  });

  it.each([
    ['insufficient balance', 402, 'INSUFFICIENT_BALANCE'],
    ['no hold', 409, 'HOLD_REQUIRED'],
    ['someone else holds it', 409, 'HOLD_REQUIRED'],
    ['unknown seat', 404, 'SEAT_NOT_FOUND'],
    ['already sold', 409, 'SEAT_ALREADY_RESERVED'],
    ['the show started after the hold', 409, 'CONCERT_ENDED'],
  ])('fails cleanly when %s (%i %s), changing nothing', async (reason, status, code) => {
    const { client } = server;
    const { concertId, seatIds } = await createConcert(db.pool, { seats: 2, price: 10_000 });
    const token = await client.activeToken(23);
    const seatId = reason === 'unknown seat' ? 999_999 : seatIds[0]!;
    await setBalance(db.pool, 23, reason === 'insufficient balance' ? 9_999 : 10_000);
    if (reason === 'insufficient balance' || reason === 'the show started after the hold')
      await client.hold(token, concertId, seatId);
    if (reason === 'the show started after the hold')
      await db.pool.query(
        `UPDATE concerts SET show_datetime = now() - interval '1 minute' WHERE id = $1`,
        [concertId],
      );
    if (reason === 'someone else holds it')
      await client.hold(await client.activeToken(24), concertId, seatId);
    if (reason === 'already sold') {
      const buyer = await client.activeToken(25);
      await setBalance(db.pool, 25, 10_000);
      await client.hold(buyer, concertId, seatId);
      expect((await client.pay(buyer, seatId)).status).toBe(201);
    }
    const before = await snapshot(23);
    const reply = await client.pay(token, seatId);
    expect([reply.status, reply.code]).toEqual([status, code]);
    expect(await snapshot(23)).toEqual(before);
  });

  it('fails cleanly with an expired token: nothing charged, the hold kept', async () => {
    const { client } = server;
    const { concertId, seatIds } = await createConcert(db.pool, { seats: 1, price: 1_000 });
    const token = await client.activeToken(26);
    await setBalance(db.pool, 26, 1_000);
    await client.hold(token, concertId, seatIds[0]!);
    // The token runs out behind the service's back while its hold lives on.
    await server.queue.expire(token);
    // A sweep first, so nothing but the payment could change the snapshot.
    await server.container.admission.admitNow();
    const before = await snapshot(26);
    const reply = await client.pay(token, seatIds[0]!);
    expect([reply.status, reply.code]).toEqual([403, 'QUEUE_TOKEN_EXPIRED']);
    expect(await snapshot(26)).toEqual(before);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRankingConsumer } from '../../src/modules/ranking/ranking.consumer.js';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { parseExposition, valueOf } from '../support/metrics.js';
import { useTestServer } from '../support/suite.js';
import type { CancellationDto } from '../../src/modules/reservations/reservations.store.js';

const KEY = 'refunds-test-operator-key-0123456789abcdef';
const operator = { authorization: `Bearer ${KEY}` };

type Cancellation = CancellationDto;

/**
 * Cancellations and refunds through the API: the buyer's (fee, cut-off, idempotent), the
 * operator's (full refund, audited), the seat on sale again at once, the event delivered, and
 * the database constraints that keep seats and money right whatever SQL is run.
 */
describeWithPostgres('refunds and cancellations', () => {
  let platform: Receiver;
  let nextUser = 1_000;

  // Registered first, so the receiver is there before the server starts and after it stops.
  beforeAll(async () => {
    platform = await startReceiver();
  });
  afterAll(async () => {
    await platform?.close();
  });
  const { db, server } = useTestServer(() => ({
    MAX_ACTIVE: '200',
    OPERATOR_KEY: KEY,
    DATA_PLATFORM_URL: platform.url,
    OUTBOX_INTERVAL_MS: '20',
    DELIVERY_INTERVAL_MS: '20',
  }));
  afterEach(async () => {
    expect(await invariantViolations(db.pool, { maxActive: 200, queue: server.queue })).toEqual([]);
  });

  const cancel = (userId: number, reservationId: number | string) =>
    server.client.call<Cancellation>('POST', `/api/v1/reservations/${reservationId}/cancel`, {
      headers: { 'client-id': String(userId) },
    });
  const operatorCancel = (
    reservationId: number | string,
    headers: Record<string, string> = operator,
  ) =>
    server.client.call<Cancellation>('POST', `/api/v1/admin/reservations/${reservationId}/cancel`, {
      headers,
    });

  /** A concert two days out (well before the default 24 h cut-off) with its refund policy. */
  const concertWith = async (
    policy: { feePercent?: number; cutoffHours?: number; startsInHours?: number } = {},
  ) => {
    const concert = await createConcert(db.pool, {
      seats: 5,
      price: 10_000,
      startsInHours: policy.startsInHours ?? 48,
    });
    await db.pool.query(
      `UPDATE concerts SET refund_fee_percent = $2, refund_cutoff_hours = $3 WHERE id = $1`,
      [concert.concertId, policy.feePercent ?? 0, policy.cutoffHours ?? 24],
    );
    return concert;
  };

  /** A new buyer with `balance` who holds and pays for the seat; returns who and what. */
  const buy = async (concertId: number, seatId: number, balance = 10_000) => {
    const userId = nextUser++;
    await setBalance(db.pool, userId, balance);
    const token = await server.client.activeToken(userId);
    const held = await server.client.hold(token, concertId, seatId);
    expect(held.status).toBe(201);
    const paid = await server.client.pay(token, seatId);
    expect(paid.status).toBe(201);
    return { userId, reservationId: paid.data.reservationId };
  };

  const ledgerOf = async (userId: number) =>
    (
      await db.pool.query<{
        type: string;
        amount: number;
        balance_after: number;
        reservation_id: number | null;
      }>(
        `SELECT type, amount::int, balance_after::int, reservation_id::int FROM point_transactions
         WHERE user_id = $1 ORDER BY id`,
        [userId],
      )
    ).rows;

  it('refunds the price minus the fee, writes the REFUND row and frees the seat for the next buyer at once', async () => {
    const { concertId, seatIds } = await concertWith({ feePercent: 10 });
    const { userId, reservationId } = await buy(concertId, seatIds[0]!, 15_000);
    // The buyer's list quotes the refund before the cancel: what the cancel then refunds.
    expect((await server.client.mine(userId)).data[0]).toMatchObject({
      reservationId,
      refundQuote: 9_000,
    });

    const cancelled = await cancel(userId, reservationId);
    expect([cancelled.status, cancelled.code, cancelled.message]).toEqual([
      200,
      'SUCCESS',
      'Cancelled',
    ]);
    expect(cancelled.data).toMatchObject({
      reservationId,
      concertId,
      seatId: seatIds[0],
      seatNumber: 1,
      price: 10_000,
      refundAmount: 9_000,
      cancelledBy: 'buyer',
    });
    expect((await server.client.balance(userId)).data.balance).toBe(14_000);
    expect(await ledgerOf(userId)).toEqual([
      { type: 'CHARGE', amount: 15_000, balance_after: 15_000, reservation_id: null },
      { type: 'USE', amount: 10_000, balance_after: 5_000, reservation_id: reservationId },
      { type: 'REFUND', amount: 9_000, balance_after: 14_000, reservation_id: reservationId },
    ]);
    const mine = await server.client.mine(userId);
    expect(mine.data).toEqual([
      expect.objectContaining({
        reservationId,
        seatId: seatIds[0],
        price: 10_000,
        status: 'CANCELLED',
        refundAmount: 9_000,
        cancelledAt: cancelled.data.cancelledAt,
        refundQuote: null,
      }),
    ]);

    // Another buyer sees the seat free and buys it right away.
    const next = nextUser++;
    await setBalance(db.pool, next, 10_000);
    const token = await server.client.activeToken(next);
    const seats = await server.client.seats(token, concertId);
    expect(seats.data.availableSeats.find((seat) => seat.seatId === seatIds[0])).toMatchObject({
      isAvailable: true,
    });
    expect((await server.client.hold(token, concertId, seatIds[0]!)).status).toBe(201);
    const resold = await server.client.pay(token, seatIds[0]!);
    expect([resold.status, resold.data.seatId]).toEqual([201, seatIds[0]]);
    const live = await db.pool.query(
      `SELECT user_id::int, cancelled_at IS NULL AS live FROM reservations WHERE seat_id = $1 ORDER BY id`,
      [seatIds[0]],
    );
    expect(live.rows).toEqual([
      { user_id: userId, live: false },
      { user_id: next, live: true },
    ]);
    // The buyer's list keeps the seed's fields and shows a live one as CONFIRMED.
    expect((await server.client.mine(next)).data[0]).toMatchObject({
      seatId: seatIds[0],
      status: 'CONFIRMED',
      refundAmount: null,
      cancelledAt: null,
      concertTitle: 'Fixture concert',
    });
  });

  it('answers a second cancel with the first cancellation (200) and refunds nothing more', async () => {
    const { concertId, seatIds } = await concertWith({ feePercent: 5 });
    const { userId, reservationId } = await buy(concertId, seatIds[1]!);
    const first = await cancel(userId, reservationId);
    const second = await cancel(userId, reservationId);
    expect(first.status).toBe(200);
    expect([second.status, second.message]).toEqual([200, 'Already cancelled']);
    expect(second.data).toEqual(first.data);
    expect((await server.client.balance(userId)).data.balance).toBe(9_500);
    expect((await ledgerOf(userId)).filter((row) => row.type === 'REFUND')).toHaveLength(1);
    const events = await db.pool.query(
      `SELECT 1 FROM outbox WHERE type = 'reservation.cancelled' AND payload->>'reservationId' = $1`,
      [String(reservationId)],
    );
    expect(events.rowCount).toBe(1);
  });

  it('counts cancellations in the metrics by who asked and outcome', async () => {
    const cancels = async () => {
      const samples = parseExposition(await (await fetch(`${server.url}/metrics`)).text());
      const count = (outcome: string) =>
        valueOf(samples, 'overture_cancellations_total', { by: 'buyer', outcome }) ?? 0;
      return { ok: count('ok'), replayed: count('replayed'), late: count('REFUND_CUTOFF_PASSED') };
    };
    const before = await cancels();
    const { concertId, seatIds } = await concertWith({});
    const { userId, reservationId } = await buy(concertId, seatIds[0]!);
    await cancel(userId, reservationId);
    await cancel(userId, reservationId);
    const soon = await concertWith({ startsInHours: 10 });
    const late = await buy(soon.concertId, soon.seatIds[0]!);
    expect((await cancel(late.userId, late.reservationId)).status).toBe(409);
    expect(await cancels()).toEqual({
      ok: before.ok + 1,
      replayed: before.replayed + 1,
      late: before.late + 1,
    });
  });

  it('refuses a cancel after the cut-off with 409 REFUND_CUTOFF_PASSED and changes nothing', async () => {
    // The show is 10 hours away; refunds close 24 hours before it.
    const { concertId, seatIds } = await concertWith({ startsInHours: 10 });
    const { userId, reservationId } = await buy(concertId, seatIds[0]!);
    // Past the cut-off the list quotes no refund: the cancel is refused.
    expect((await server.client.mine(userId)).data[0]).toMatchObject({ refundQuote: null });
    const late = await cancel(userId, reservationId);
    expect([late.status, late.code]).toEqual([409, 'REFUND_CUTOFF_PASSED']);
    const { cutoff } = late.data as unknown as { cutoff: string };
    expect(typeof cutoff).toBe('string');
    expect(Date.parse(cutoff)).toBeLessThan(Date.now());
    expect((await server.client.balance(userId)).data.balance).toBe(0);
    const row = await db.pool.query(`SELECT cancelled_at FROM reservations WHERE id = $1`, [
      reservationId,
    ]);
    expect(row.rows).toEqual([{ cancelled_at: null }]);
    const hold = await db.pool.query(`SELECT status FROM seat_holds WHERE seat_id = $1`, [
      seatIds[0],
    ]);
    expect(hold.rows).toEqual([{ status: 'SOLD' }]);

    // With a cut-off of 0 hours the same reservation could still be cancelled.
    await db.pool.query(`UPDATE concerts SET refund_cutoff_hours = 0 WHERE id = $1`, [concertId]);
    expect((await cancel(userId, reservationId)).status).toBe(200);
  });

  it("answers 404 RESERVATION_NOT_FOUND for someone else's or an unknown reservation, 400 for a bad id", async () => {
    const { concertId, seatIds } = await concertWith();
    const { userId, reservationId } = await buy(concertId, seatIds[2]!);
    const stranger = await cancel(userId + 50_000, reservationId);
    expect([stranger.status, stranger.code]).toEqual([404, 'RESERVATION_NOT_FOUND']);
    const unknown = await cancel(userId, 987_654_321);
    expect([unknown.status, unknown.code]).toEqual([404, 'RESERVATION_NOT_FOUND']);
    const bad = await cancel(userId, 'abc');
    expect([bad.status, bad.code]).toEqual([400, 'INVALID_REQUEST']);
    const anonymous = await server.client.call(
      'POST',
      `/api/v1/reservations/${reservationId}/cancel`,
    );
    expect([anonymous.status, anonymous.code]).toEqual([401, 'CLIENT_ID_REQUIRED']);
    // Still the buyer's, untouched.
    expect((await server.client.balance(userId)).data.balance).toBe(0);
    expect((await server.client.mine(userId)).data[0]).toMatchObject({ status: 'CONFIRMED' });
  });

  it('lets an operator cancel with a full refund, past the cut-off and without the fee, audited before and after', async () => {
    const { concertId, seatIds } = await concertWith({ feePercent: 20, startsInHours: 1 });
    const { userId, reservationId } = await buy(concertId, seatIds[3]!);
    const done = await operatorCancel(reservationId);
    expect([done.status, done.message]).toEqual([200, 'Cancelled']);
    expect(done.data).toMatchObject({
      reservationId,
      refundAmount: 10_000,
      cancelledBy: 'operator',
    });
    expect((await server.client.balance(userId)).data.balance).toBe(10_000);
    const again = await operatorCancel(reservationId);
    expect([again.status, again.message, again.data]).toEqual([
      200,
      'Already cancelled',
      done.data,
    ]);
    expect((await server.client.balance(userId)).data.balance).toBe(10_000);

    const audit = await server.client.call<{ entries: Record<string, unknown>[] }>(
      'GET',
      `/api/v1/admin/audit?targetType=reservation&targetId=${reservationId}`,
      { headers: operator },
    );
    const entries = audit.data.entries;
    expect(entries).toHaveLength(2);
    // Newest first: the repeat changed nothing, the first cancel recorded the change.
    expect(entries[1]).toMatchObject({
      action: 'reservation.cancel',
      outcome: 'SUCCESS',
      targetType: 'reservation',
      targetId: String(reservationId),
      before: {
        userId,
        seatId: seatIds[3],
        price: 10_000,
        status: 'CONFIRMED',
        refundAmount: null,
      },
      after: { status: 'CANCELLED', cancelledBy: 'operator', refundAmount: 10_000 },
    });
    expect(entries[0]).toMatchObject({ before: entries[1]!.after, after: entries[1]!.after });
  });

  it('refuses operator cancels without the key (not audited) and records an unknown reservation as refused', async () => {
    const none = await operatorCancel(1, {});
    expect([none.status, none.code]).toEqual([401, 'OPERATOR_KEY_REQUIRED']);
    const missing = await operatorCancel(987_654_321);
    expect([missing.status, missing.code]).toEqual([404, 'RESERVATION_NOT_FOUND']);
    const audit = await server.client.call<{ entries: Record<string, unknown>[] }>(
      'GET',
      `/api/v1/admin/audit?targetType=reservation&targetId=987654321`,
      { headers: operator },
    );
    expect(audit.data.entries).toEqual([
      expect.objectContaining({
        outcome: 'REFUSED',
        code: 'RESERVATION_NOT_FOUND',
        action: 'reservation.cancel',
      }),
    ]);
    const bare = await server.client.call<{ entries: Record<string, unknown>[] }>(
      'GET',
      `/api/v1/admin/audit?targetType=reservation&targetId=1`,
      { headers: operator },
    );
    expect(bare.data.entries).toEqual([]);
  });

  it('delivers reservation.cancelled: the ranking goes down by one and the data platform gets it', async () => {
    const { concertId, seatIds } = await concertWith();
    const rankingOf = async () =>
      (
        await db.pool.query<{ n: number }>(
          `SELECT confirmed_count::int AS n FROM concert_ranking WHERE concert_id = $1`,
          [concertId],
        )
      ).rows[0]?.n ?? 0;
    const a = await buy(concertId, seatIds[0]!);
    await buy(concertId, seatIds[1]!);
    await expect.poll(rankingOf, { timeout: 5_000 }).toBe(2);
    expect((await cancel(a.userId, a.reservationId)).status).toBe(200);
    await expect.poll(rankingOf, { timeout: 5_000 }).toBe(1);
    const [event] = (
      await db.pool.query<{ event_id: string; payload: Record<string, unknown> }>(
        `SELECT event_id, payload FROM outbox WHERE type = 'reservation.cancelled' AND key = $1`,
        [String(concertId)],
      )
    ).rows;
    expect(event?.payload).toMatchObject({
      reservationId: a.reservationId,
      userId: a.userId,
      concertId,
      seatId: seatIds[0],
      price: 10_000,
      refundAmount: 10_000,
      cancelledBy: 'buyer',
    });
    await expect
      .poll(() => platform.accepted().has(event!.event_id), { timeout: 5_000 })
      .toBe(true);
    const sent = platform.received.find((entry) => entry.idempotencyKey === event!.event_id);
    expect(sent?.body).toMatchObject({
      type: 'reservation.cancelled',
      reservation: { reservationId: a.reservationId },
    });
    // Delivered once in effect: the same event again changes nothing.
    const { rows } = await db.pool.query<{ id: number; created_at: Date }>(
      `SELECT id::int, created_at FROM outbox WHERE event_id = $1`,
      [event!.event_id],
    );
    await createRankingConsumer(server.container.database).handle({
      id: rows[0]!.id,
      eventId: event!.event_id,
      type: 'reservation.cancelled',
      key: String(concertId),
      payload: event!.payload,
      createdAt: rows[0]!.created_at.toISOString(),
    });
    expect(await rankingOf()).toBe(1);
  });

  describe('constraints (each tried directly in SQL)', () => {
    /** A paid reservation to break things with. */
    const paid = async () => {
      const { concertId, seatIds } = await concertWith();
      const bought = await buy(concertId, seatIds[4]!);
      return { ...bought, concertId, seatId: seatIds[4]! };
    };
    const failsWith = async (
      constraint: string,
      statements: string[],
      params: unknown[][] = [],
    ) => {
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        let failure: unknown;
        try {
          for (const [i, text] of statements.entries()) await client.query(text, params[i] ?? []);
          await client.query('COMMIT');
        } catch (error) {
          failure = error;
        }
        await client.query('ROLLBACK');
        expect((failure as { constraint?: string } | undefined)?.constraint).toBe(constraint);
      } finally {
        client.release();
      }
    };

    it('keeps at most one live reservation per seat (a cancelled one leaves room)', async () => {
      const { userId, seatId, concertId, reservationId } = await paid();
      const insert = `INSERT INTO reservations (reservation_uuid, user_id, concert_id, seat_id, price)
                      VALUES (gen_random_uuid(), $1, $2, $3, 10000)`;
      await failsWith('reservations_seat_key', [insert], [[userId, concertId, seatId]]);
      // Cancelled properly (seat freed with it), the seat takes a new live reservation.
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`DELETE FROM seat_holds WHERE seat_id = $1`, [seatId]);
        await client.query(
          `UPDATE reservations SET cancelled_at = now(), cancelled_by = 'operator', refund_amount = 0 WHERE id = $1`,
          [reservationId],
        );
        await client.query(insert, [userId, concertId, seatId]);
        await client.query(
          `INSERT INTO seat_holds (seat_id, user_id, hold_uuid, status, expires_at) VALUES ($1, $2, gen_random_uuid(), 'SOLD', now())`,
          [seatId, userId],
        );
        await client.query(
          `INSERT INTO point_transactions (user_id, type, amount, balance_after, reservation_id)
           SELECT $1, 'USE', 1, 0, id FROM reservations WHERE seat_id = $2 AND cancelled_at IS NULL`,
          [userId, seatId],
        );
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
    });

    it('refunds a reservation at most once, and only with a reservation', async () => {
      const { userId, reservationId } = await paid();
      const refund = `INSERT INTO point_transactions (user_id, type, amount, balance_after, reservation_id)
                      VALUES ($1, 'REFUND', 1, 1, $2)`;
      await failsWith(
        'point_transactions_refund_key',
        [refund, refund],
        [
          [userId, reservationId],
          [userId, reservationId],
        ],
      );
      await failsWith('point_transactions_reservation', [refund], [[userId, null]]);
      await failsWith('point_transactions_type', [
        `INSERT INTO point_transactions (user_id, type, amount, balance_after, reservation_id) VALUES (${userId}, 'BONUS', 1, 1, ${reservationId})`,
      ]);
    });

    it('sets cancelled_at, cancelled_by and refund_amount together, refunding at most the price', async () => {
      const { reservationId } = await paid();
      const cancelWith = (set: string) =>
        `UPDATE reservations SET ${set} WHERE id = ${reservationId}`;
      await failsWith('reservations_cancellation', [cancelWith(`cancelled_at = now()`)]);
      await failsWith('reservations_cancellation', [cancelWith(`refund_amount = 10`)]);
      await failsWith('reservations_cancellation', [
        cancelWith(`cancelled_at = now(), cancelled_by = 'buyer', refund_amount = 10001`),
      ]);
      await failsWith('reservations_cancellation', [
        cancelWith(`cancelled_at = now(), cancelled_by = 'someone', refund_amount = 1`),
      ]);
    });

    it('lets a reservation change only by its one cancellation', async () => {
      const { userId, reservationId } = await paid();
      const other = await concertWith();
      await failsWith('reservations_cancel_only', [
        `UPDATE reservations SET seat_id = ${other.seatIds[0]!} WHERE id = ${reservationId}`,
      ]);
      await failsWith('reservations_cancel_only', [
        `UPDATE reservations SET price = 1 WHERE id = ${reservationId}`,
      ]);
      expect((await cancel(userId, reservationId)).status).toBe(200);
      await failsWith('reservations_cancel_only', [
        `UPDATE reservations SET cancelled_at = NULL, cancelled_by = NULL, refund_amount = NULL WHERE id = ${reservationId}`,
      ]);
      await failsWith('reservations_cancel_only', [
        `UPDATE reservations SET refund_amount = 5000 WHERE id = ${reservationId}`,
      ]);
    });

    it('frees exactly the cancelled seat: not cancelled-but-sold, not another seat freed', async () => {
      const mine = await paid();
      const theirs = await paid();
      // Cancelled while the seat stays sold: refused at commit.
      await failsWith('reservations_cancel_frees_seat', [
        `UPDATE reservations SET cancelled_at = now(), cancelled_by = 'buyer', refund_amount = 0 WHERE id = ${mine.reservationId}`,
      ]);
      // Cancelled, but another live reservation's seat freed instead: refused at commit.
      await failsWith('seat_holds_sold_stays', [
        `DELETE FROM seat_holds WHERE seat_id = ${theirs.seatId}`,
      ]);
      await failsWith('seat_holds_sold_stays', [
        `UPDATE seat_holds SET status = 'HELD' WHERE seat_id = ${theirs.seatId}`,
      ]);
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          `UPDATE reservations SET cancelled_at = now(), cancelled_by = 'buyer', refund_amount = 0 WHERE id = $1`,
          [mine.reservationId],
        );
        await client.query(`DELETE FROM seat_holds WHERE seat_id = $1`, [theirs.seatId]);
        const failure: unknown = await client.query('COMMIT').then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(['reservations_cancel_frees_seat', 'seat_holds_sold_stays']).toContain(
          (failure as { constraint?: string } | undefined)?.constraint,
        );
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release();
      }
    });

    it('keeps the refund policy in range', async () => {
      const { concertId } = await concertWith();
      await failsWith('concerts_refund_fee_percent', [
        `UPDATE concerts SET refund_fee_percent = 101 WHERE id = ${concertId}`,
      ]);
      await failsWith('concerts_refund_fee_percent', [
        `UPDATE concerts SET refund_fee_percent = -1 WHERE id = ${concertId}`,
      ]);
      await failsWith('concerts_refund_cutoff_hours', [
        `UPDATE concerts SET refund_cutoff_hours = -1 WHERE id = ${concertId}`,
      ]);
    });
  });
});

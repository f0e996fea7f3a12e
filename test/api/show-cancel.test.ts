import { afterEach, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { useTestServer } from '../support/suite.js';
import type { ShowCancelJob } from '../../src/modules/reservations/reservations.store.js';

const KEY = 'show-cancel-test-operator-key-0123456789ab';
const operator = { authorization: `Bearer ${KEY}` };

type Job = ShowCancelJob;

/**
 * A show's cancellation through the API: the concert closed to sale at the commit (holds and
 * payments 409 CONCERT_CANCELLED, unavailable in the list), its holds released, every
 * reservation refunded once in full by the job, progress on GET, audited, idempotent.
 */
describeWithPostgres('show cancellation', () => {
  const { db, server } = useTestServer({ MAX_ACTIVE: '200', OPERATOR_KEY: KEY });
  let nextUser = 5_000;

  afterEach(async () => {
    expect(await invariantViolations(db.pool, { maxActive: 200, queue: server.queue })).toEqual([]);
  });

  const cancelShow = (concertId: number | string, body?: unknown, headers = operator) =>
    server.client.call<Job>('POST', `/api/v1/admin/concerts/${concertId}/cancel`, {
      headers,
      body,
    });
  const progress = (concertId: number | string, headers = operator) =>
    server.client.call<Job>('GET', `/api/v1/admin/concerts/${concertId}/cancel`, { headers });

  const until = async (concertId: number, timeoutMs = 20_000): Promise<Job> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = await progress(concertId);
      expect(reply.status).toBe(200);
      if (reply.data.state === 'done') return reply.data;
      if (Date.now() > deadline) throw new Error(`job still ${JSON.stringify(reply.data)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const buy = async (concertId: number, seatId: number) => {
    const userId = nextUser++;
    await setBalance(db.pool, userId, 10_000);
    const token = await server.client.activeToken(userId);
    expect((await server.client.hold(token, concertId, seatId)).status).toBe(201);
    const paid = await server.client.pay(token, seatId);
    expect(paid.status).toBe(201);
    return { userId, reservationId: paid.data.reservationId };
  };

  it('refunds every reservation once, releases the holds and closes the show to sale', async () => {
    const { concertId, seatIds } = await createConcert(db.pool, { seats: 12, price: 10_000 });
    const buyers = [];
    for (const seatId of seatIds.slice(0, 8)) buyers.push(await buy(concertId, seatId));
    // Two shoppers hold seats when the show is cancelled; a third has a token, no hold.
    const holders = [];
    for (const seatId of seatIds.slice(8, 10)) {
      const userId = nextUser++;
      await setBalance(db.pool, userId, 10_000);
      const token = await server.client.activeToken(userId);
      expect((await server.client.hold(token, concertId, seatId)).status).toBe(201);
      holders.push({ token, seatId });
    }
    const latecomer = await server.client.activeToken(nextUser++);

    const started = await cancelShow(concertId, { reason: 'The artist is ill' });
    expect([started.status, started.code, started.message]).toEqual([202, 'SUCCESS', 'Cancelling']);
    expect(started.data).toMatchObject({
      concertId,
      reason: 'The artist is ill',
      total: 8,
      finishedAt: null,
    });
    expect(started.data.refunded + started.data.remaining).toBe(8);
    const actor = started.data.requestedBy;
    expect(actor).toMatch(/^operator-key:/);

    // Closed to sale from the commit: no hold, no payment (the held seats were released).
    const hold = await server.client.hold(latecomer, concertId, seatIds[11]!);
    expect([hold.status, hold.code]).toEqual([409, 'CONCERT_CANCELLED']);
    for (const holder of holders) {
      const paid = await server.client.pay(holder.token, holder.seatId);
      expect([paid.status, paid.code]).toEqual([409, 'CONCERT_CANCELLED']);
    }
    const held = await db.pool.query(
      `SELECT 1 FROM seat_holds h JOIN seats s ON s.id = h.seat_id WHERE s.concert_id = $1 AND h.status = 'HELD'`,
      [concertId],
    );
    expect(held.rowCount).toBe(0);
    const list = await server.client.concerts(latecomer);
    expect(list.data.find((concert) => concert.concertId === concertId)?.isAvailable).toBe(false);
    const seats = await server.client.seats(latecomer, concertId);
    expect(seats.data.availableSeats.some((seat) => seat.isAvailable)).toBe(false);

    const done = await until(concertId);
    expect(done).toMatchObject({ state: 'done', total: 8, refunded: 8, remaining: 0 });
    expect(done.finishedAt).not.toBeNull();

    // Each buyer has the whole price back, through exactly one REFUND of their reservation.
    for (const { userId, reservationId } of buyers) {
      const refunds = await db.pool.query<{ amount: string }>(
        `SELECT amount FROM point_transactions WHERE user_id = $1 AND type = 'REFUND' AND reservation_id = $2`,
        [userId, reservationId],
      );
      expect(refunds.rows.map((row) => Number(row.amount))).toEqual([10_000]);
      const balance = await server.client.balance(userId);
      expect(balance.data.balance).toBe(10_000);
    }
    const live = await db.pool.query(
      `SELECT 1 FROM reservations WHERE concert_id = $1 AND cancelled_at IS NULL`,
      [concertId],
    );
    expect(live.rowCount).toBe(0);
    const events = await db.pool.query(
      `SELECT 1 FROM outbox WHERE type = 'reservation.cancelled' AND key = $1`,
      [String(concertId)],
    );
    expect(events.rowCount).toBe(8);

    // Audited: the show's cancellation, and each reservation's in the job's name.
    const audit = await db.pool.query<{ action: string; actor: string; request_id: string }>(
      `SELECT action, actor, request_id FROM audit_log
       WHERE (target_type = 'concert' AND target_id = $1)
          OR (target_type = 'reservation' AND target_id = ANY($2::text[]))
       ORDER BY id`,
      [String(concertId), buyers.map((buyer) => String(buyer.reservationId))],
    );
    expect(audit.rows[0]).toMatchObject({ action: 'concert.cancel', actor });
    const perReservation = audit.rows.slice(1);
    expect(perReservation).toHaveLength(8);
    for (const row of perReservation)
      expect(row).toEqual({
        action: 'reservation.cancel',
        actor,
        request_id: `show-cancel:${concertId}`,
      });

    // A repeat answers the same job, changing nothing.
    const again = await cancelShow(concertId);
    expect([again.status, again.message]).toEqual([200, 'Already cancelled']);
    expect(again.data).toEqual(done);
  });

  it('cancels a show without reservations (done at once) and takes no body', async () => {
    const { concertId } = await createConcert(db.pool, { seats: 3 });
    const started = await cancelShow(concertId);
    expect([started.status, started.message]).toEqual([202, 'Cancelling']);
    expect(started.data).toMatchObject({ total: 0, reason: null });
    expect(await until(concertId)).toMatchObject({ total: 0, refunded: 0, remaining: 0 });

    // A cancelled show stays as it was, the record of its refunds: no edit, no delete.
    const path = `/api/v1/admin/concerts/${concertId}`;
    const patched = await server.client.call('PATCH', path, {
      headers: operator,
      body: { title: 'Renamed' },
    });
    const deleted = await server.client.call('DELETE', path, { headers: operator });
    expect([patched.status, patched.code]).toEqual([409, 'CONCERT_CANCELLED']);
    expect([deleted.status, deleted.code]).toEqual([409, 'CONCERT_CANCELLED']);
    const kept = await db.pool.query<{ title: string }>(
      `SELECT title FROM concerts WHERE id = $1`,
      [concertId],
    );
    expect(kept.rows).toEqual([{ title: 'Fixture concert' }]);
  });

  it('answers two cancellations at once with one job: one 202, one 200', async () => {
    const { concertId, seatIds } = await createConcert(db.pool, { seats: 3 });
    await buy(concertId, seatIds[0]!);
    const replies = await Promise.all([cancelShow(concertId), cancelShow(concertId)]);
    expect(replies.map((reply) => reply.status).sort()).toEqual([200, 202]);
    expect(await until(concertId)).toMatchObject({ total: 1, refunded: 1 });
    const jobs = await db.pool.query(`SELECT 1 FROM show_cancel_jobs WHERE concert_id = $1`, [
      concertId,
    ]);
    expect(jobs.rowCount).toBe(1);
  });

  it('refuses clearly: unknown concert, no cancellation yet, bad body, no operator', async () => {
    const { concertId } = await createConcert(db.pool, { seats: 1 });
    const unknown = await cancelShow(999_999);
    expect([unknown.status, unknown.code]).toEqual([404, 'CONCERT_NOT_FOUND']);
    const none = await progress(concertId);
    expect([none.status, none.code]).toEqual([404, 'SHOW_CANCEL_NOT_FOUND']);
    const bad = await cancelShow(concertId, { reason: '' });
    expect([bad.status, bad.code]).toEqual([400, 'INVALID_REQUEST']);
    const extra = await cancelShow(concertId, { reason: 'x', refund: false });
    expect([extra.status, extra.code]).toEqual([400, 'INVALID_REQUEST']);
    const badId = await cancelShow('abc');
    expect([badId.status, badId.code]).toEqual([400, 'INVALID_REQUEST']);
    const anonymous = await cancelShow(concertId, undefined, { authorization: 'Bearer nope' });
    expect(anonymous.status).toBe(401);
    // None of these cancelled anything; the refused ones by an operator are audited.
    expect((await progress(concertId)).status).toBe(404);
    const refused = await db.pool.query<{ code: string }>(
      `SELECT code FROM audit_log WHERE action = 'concert.cancel' AND outcome = 'REFUSED' ORDER BY id`,
    );
    expect(refused.rows.map((row) => row.code)).toContain('CONCERT_NOT_FOUND');
  });
});

import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { runOnce, saveResponse, type IdempotencyKey } from '../../db/idempotency.js';
import { query, queryOne, transaction, violatedConstraint } from '../../db/sql.js';
import { refusable } from '../../shared/outcome.js';
import { activeTraceContext } from '../../shared/tracing.js';
import type { AuditLog } from '../audit/audit.store.js';
import { RESERVATION_CONFIRMED } from '../events/events.js';
import type { BookingToken, BookingTokens } from '../queue/queue.booking.js';
import type { TokenRecord } from '../queue/queue.store.js';
import { createPostgresCancellations } from './reservations.cancel.postgres.js';
import { paymentRefusal } from './reservations.rules.js';
import type {
  PaymentRefusal,
  PaymentRequest,
  ReservationDto,
  ReservationStore,
} from './reservations.store.js';

type Refuse = (refusal: PaymentRefusal) => never;

interface LockedHold {
  user_id: number;
  status: 'HELD' | 'SOLD';
  live: boolean;
  ended: boolean;
  not_open: boolean;
  closed: boolean;
  cancelled: boolean;
  concert_id: number;
  seat_number: number;
  price: number;
}

/** Locks the seat's hold row (the first lock of a payment); refuses unless it is this user's live hold. */
async function lockOwnHold(
  tx: Executor,
  userId: number,
  seatId: number,
  refuse: Refuse,
): Promise<LockedHold> {
  const hold = await queryOne<LockedHold>(
    tx,
    sql`SELECT h.user_id, h.status, h.expires_at > now() AS live, c.show_datetime <= now() AS ended,
          coalesce(c.sale_opens_at > now(), false) AS not_open,
          coalesce(c.sale_closes_at <= now(), false) AS closed,
          c.cancelled_at IS NOT NULL AS cancelled,
          s.concert_id, s.seat_number, s.price
        FROM seat_holds h JOIN seats s ON s.id = h.seat_id JOIN concerts c ON c.id = s.concert_id
        WHERE h.seat_id = ${seatId} FOR UPDATE OF h`,
    { prepared: true },
  );
  if (!hold) {
    const seat = await queryOne<{ cancelled: boolean }>(
      tx,
      sql`SELECT c.cancelled_at IS NOT NULL AS cancelled
          FROM seats s JOIN concerts c ON c.id = s.concert_id WHERE s.id = ${seatId}`,
    );
    if (!seat) refuse({ reason: 'seat-not-found' });
    // The show's cancellation released the hold (0039).
    if (seat.cancelled) refuse({ reason: 'concert-cancelled' });
  }
  // Only the hold checked the show time: a hold taken just before the show could be paid after.
  if (hold?.ended) refuse({ reason: 'concert-ended' });
  // A show cancelled (0039): a payment that locked its hold first commits, and the show-cancel
  // job refunds it; one that comes after finds this.
  if (hold?.cancelled) refuse({ reason: 'concert-cancelled' });
  // The sale window, by this transaction's clock, in the statement that locks the hold.
  if (hold?.not_open) refuse({ reason: 'sale-not-open' });
  if (hold?.closed) refuse({ reason: 'sale-closed' });
  const refusal = paymentRefusal(
    hold ? { status: hold.status, ownerId: hold.user_id, live: hold.live } : null,
    userId,
  );
  if (refusal !== null || !hold)
    return refuse({ reason: 'claim', claim: refusal ?? 'HOLD_REQUIRED' });
  return hold;
}

export function createPostgresReservationStore(
  database: Database,
  options: {
    /** The caller's queue token as the payment transaction sees it. */
    tokens: Pick<BookingTokens, 'open'>;
    /** Operators' cancellations are recorded in their transaction. */
    audit: Pick<AuditLog, 'appendIn'>;
  },
): ReservationStore {
  const { tokens, audit } = options;

  async function settle(
    tx: Executor,
    request: PaymentRequest,
    record: TokenRecord,
    key: IdempotencyKey,
    refuse: Refuse,
  ): Promise<ReservationDto> {
    const token: BookingToken = tokens.open(tx, record, 'pay');
    const dead = token.live();
    if (dead !== null) refuse({ reason: 'token', refusal: dead });
    const hold = await lockOwnHold(tx, request.userId, request.seatId, refuse);
    const concertId = hold.concert_id;
    const price = hold.price;
    const verified = await token.verify(concertId);
    if (!verified.ok) return refuse({ reason: 'token', refusal: verified.refusal });
    // The token's own step, when it is kept in this database (expired with the payment).
    const spend = verified.value.spendStep(sql`EXISTS (SELECT 1 FROM reservation)`);
    const expired = spend ? sql`expired AS (${spend}),` : sql``;
    const eventId = randomUUID();
    // Debit only if the balance covers the price; every later step hangs off the debit's row,
    // so an insufficient balance makes the whole statement a no-op.
    // The reply is built here, in SQL, and saved as the key's result in the same statement, so
    // a replay returns exactly these values; the token is spent in it too: spent_queue_tokens
    // on every queue backend (one token pays once), and the token row's expiry (postgres queue).
    const reply = sql`jsonb_build_object('reservationId', reservation.id, 'concertId', ${concertId}::bigint,
      'seatId', ${request.seatId}::bigint, 'seatNumber', ${hold.seat_number}::int, 'price', ${price}::bigint,
      'balance', debit.balance,
      'reservedAt', to_char(reservation.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;
    const paid = await queryOne<{ reply: ReservationDto }>(
      tx,
      sql`WITH debit AS (
            UPDATE users SET balance = balance - ${price}, updated_at = now()
            WHERE id = ${request.userId} AND balance >= ${price} RETURNING balance),
          reservation AS (
            INSERT INTO reservations (reservation_uuid, user_id, concert_id, seat_id, price)
            SELECT ${request.reservationUuid}, ${request.userId}, ${concertId}, ${request.seatId}, ${price} FROM debit
            RETURNING id, created_at),
          ledger AS (
            INSERT INTO point_transactions (user_id, type, amount, balance_after, reservation_id)
            SELECT ${request.userId}, 'USE', ${price}, debit.balance, reservation.id FROM debit, reservation),
          sold AS (
            UPDATE seat_holds SET status = 'SOLD' WHERE seat_id = ${request.seatId} AND EXISTS (SELECT 1 FROM reservation)),
          event AS (
            INSERT INTO outbox (event_id, type, key, payload, trace_context)
            SELECT ${eventId}, ${RESERVATION_CONFIRMED}, ${String(concertId)},
              jsonb_build_object('eventId', ${eventId}::text, 'reservationId', reservation.id,
                'userId', ${request.userId}::bigint, 'concertId', ${concertId}::bigint, 'seatId', ${request.seatId}::bigint,
                'price', ${price}::bigint, 'queueToken', ${record.token}::text, 'reservedAt', reservation.created_at),
              ${activeTraceContext()}::text
            FROM reservation),
          spent AS (
            INSERT INTO spent_queue_tokens (token) SELECT ${record.token} FROM reservation),
          ${expired}
          saved AS (${saveResponse(key, sql`(SELECT ${reply} FROM debit, reservation)`)} AND EXISTS (SELECT 1 FROM reservation))
          SELECT ${reply} AS reply FROM debit, reservation`,
      { prepared: true },
    );
    return paid ? paid.reply : refuse({ reason: 'insufficient-balance', price });
  }

  return {
    pay(request, token) {
      const key: IdempotencyKey = {
        userId: request.userId,
        scope: 'reservation',
        key: request.reservationUuid,
        request: { seatId: request.seatId },
      };
      return refusable((refuse: Refuse) =>
        transaction(database, (tx) =>
          runOnce(tx, key, () => settle(tx, request, token, key, refuse), {
            workSavesResponse: true,
          }),
        ).catch((error: unknown) => {
          // The token paid already, in a transaction that committed while this one ran.
          if (violatedConstraint(error) === 'spent_queue_tokens_pkey')
            refuse({ reason: 'token-spent' });
          throw error;
        }),
      );
    },

    ...createPostgresCancellations(database, audit),

    async listByUser(userId, limit) {
      const rows = await query<{
        id: number;
        concert_id: number;
        title: string;
        show_datetime: Date;
        seat_id: number;
        seat_number: number;
        price: number;
        created_at: Date;
        cancelled_at: Date | null;
        refund_amount: number | null;
      }>(
        database,
        sql`SELECT r.id, r.concert_id, c.title, c.show_datetime, r.seat_id, s.seat_number, r.price, r.created_at,
              r.cancelled_at, r.refund_amount
            FROM reservations r JOIN concerts c ON c.id = r.concert_id JOIN seats s ON s.id = r.seat_id
            WHERE r.user_id = ${userId} ORDER BY r.id DESC LIMIT ${limit}`,
        { prepared: true },
      );
      return rows.map((row) => ({
        reservationId: row.id,
        concertId: row.concert_id,
        concertTitle: row.title,
        concertDateTime: row.show_datetime.toISOString(),
        seatId: row.seat_id,
        seatNumber: row.seat_number,
        price: row.price,
        reservedAt: row.created_at.toISOString(),
        status: row.cancelled_at === null ? ('CONFIRMED' as const) : ('CANCELLED' as const),
        refundAmount: row.refund_amount,
        cancelledAt: row.cancelled_at?.toISOString() ?? null,
      }));
    },
  };
}

import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { runOnce, saveResponse, type IdempotencyKey } from '../../db/idempotency.js';
import { query, queryOne, transaction, violatedConstraint } from '../../db/sql.js';
import { refusable } from '../../shared/outcome.js';
import type { AuditLog } from '../audit/audit.store.js';
import { RESERVATION_CANCELLED, RESERVATION_CONFIRMED } from '../events/events.js';
import type { BookingToken, BookingTokens } from '../queue/queue.booking.js';
import type { TokenRecord } from '../queue/queue.store.js';
import { paymentRefusal, refundAmount } from './reservations.rules.js';
import type {
  CancellationDto,
  Canceller,
  CancelRefusal,
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
          coalesce(c.sale_closes_at <= now(), false) AS closed, s.concert_id, s.seat_number, s.price
        FROM seat_holds h JOIN seats s ON s.id = h.seat_id JOIN concerts c ON c.id = s.concert_id
        WHERE h.seat_id = ${seatId} FOR UPDATE OF h`,
    { prepared: true },
  );
  if (!hold) {
    const seat = await queryOne(tx, sql`SELECT 1 FROM seats WHERE id = ${seatId}`);
    if (!seat) refuse({ reason: 'seat-not-found' });
  }
  // Only the hold checked the show time: a hold taken just before the show could be paid after.
  if (hold?.ended) refuse({ reason: 'concert-ended' });
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

interface LockedReservation {
  id: number;
  user_id: number;
  concert_id: number;
  seat_id: number;
  seat_number: number;
  price: number;
  cancelled_at: Date | null;
  cancelled_by: 'buyer' | 'operator' | null;
  refund_amount: number | null;
  /** The concert's refund cut-off: the show time minus refund_cutoff_hours. */
  cutoff: Date;
  refundable: boolean;
  refund_fee_percent: number;
}

const cancellationOf = (row: LockedReservation): CancellationDto => {
  if (row.cancelled_at === null || row.cancelled_by === null || row.refund_amount === null)
    throw new Error(`reservation ${row.id} is not cancelled`);
  return {
    reservationId: row.id,
    concertId: row.concert_id,
    seatId: row.seat_id,
    seatNumber: row.seat_number,
    price: row.price,
    refundAmount: row.refund_amount,
    cancelledBy: row.cancelled_by,
    cancelledAt: row.cancelled_at.toISOString(),
  };
};

/** What the audit log keeps of a reservation. */
const auditView = (row: LockedReservation) => ({
  userId: row.user_id,
  concertId: row.concert_id,
  seatId: row.seat_id,
  price: row.price,
  status: row.cancelled_at === null ? 'CONFIRMED' : 'CANCELLED',
  cancelledBy: row.cancelled_by,
  refundAmount: row.refund_amount,
  cancelledAt: row.cancelled_at?.toISOString() ?? null,
});

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

  /**
   * The cancellation itself, on the locked reservation: one statement that marks it cancelled,
   * credits the refund (with its REFUND ledger row, when there is anything to refund), deletes
   * the seat's SOLD hold so the seat can be held at once, and writes the outbox event.
   */
  async function cancelLocked(
    tx: Executor,
    row: LockedReservation,
    by: Canceller['kind'],
    refund: number,
  ): Promise<LockedReservation> {
    const eventId = randomUUID();
    const done = await queryOne<{ cancelled_at: Date }>(
      tx,
      sql`WITH cancel AS (
            UPDATE reservations SET cancelled_at = now(), cancelled_by = ${by}, refund_amount = ${refund}
            WHERE id = ${row.id} AND cancelled_at IS NULL RETURNING cancelled_at),
          credit AS (
            UPDATE users SET balance = balance + ${refund}, updated_at = now()
            WHERE id = ${row.user_id} AND EXISTS (SELECT 1 FROM cancel) RETURNING balance),
          ledger AS (
            INSERT INTO point_transactions (user_id, type, amount, balance_after, reservation_id)
            SELECT ${row.user_id}, 'REFUND', ${refund}, credit.balance, ${row.id}::bigint
            FROM credit WHERE ${refund}::bigint > 0),
          freed AS (
            DELETE FROM seat_holds
            WHERE seat_id = ${row.seat_id} AND status = 'SOLD' AND EXISTS (SELECT 1 FROM cancel)),
          event AS (
            INSERT INTO outbox (event_id, type, key, payload)
            SELECT ${eventId}, ${RESERVATION_CANCELLED}, ${String(row.concert_id)},
              jsonb_build_object('eventId', ${eventId}::text, 'reservationId', ${row.id}::bigint,
                'userId', ${row.user_id}::bigint, 'concertId', ${row.concert_id}::bigint,
                'seatId', ${row.seat_id}::bigint, 'price', ${row.price}::bigint,
                'refundAmount', ${refund}::bigint, 'cancelledBy', ${by}::text,
                'cancelledAt', cancel.cancelled_at)
            FROM cancel)
          SELECT cancel.cancelled_at FROM cancel, credit`,
      { prepared: true },
    );
    // The reservation row is locked and was live: the statement cannot have found it cancelled.
    if (!done) throw new Error(`reservation ${row.id} could not be cancelled`);
    return { ...row, cancelled_at: done.cancelled_at, cancelled_by: by, refund_amount: refund };
  }

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
            INSERT INTO outbox (event_id, type, key, payload)
            SELECT ${eventId}, ${RESERVATION_CONFIRMED}, ${String(concertId)},
              jsonb_build_object('eventId', ${eventId}::text, 'reservationId', reservation.id,
                'userId', ${request.userId}::bigint, 'concertId', ${concertId}::bigint, 'seatId', ${request.seatId}::bigint,
                'price', ${price}::bigint, 'queueToken', ${record.token}::text, 'reservedAt', reservation.created_at)
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

    cancel(reservationId, by) {
      return refusable((refuse: (refusal: CancelRefusal) => never) =>
        transaction(database, async (tx) => {
          // The first lock of a cancellation: concurrent cancellations of one reservation take
          // turns here, and each later one finds it cancelled.
          const row = await queryOne<LockedReservation>(
            tx,
            sql`SELECT r.id, r.user_id, r.concert_id, r.seat_id, s.seat_number, r.price,
                  r.cancelled_at, r.cancelled_by, r.refund_amount,
                  c.show_datetime - make_interval(hours => c.refund_cutoff_hours) AS cutoff,
                  now() < c.show_datetime - make_interval(hours => c.refund_cutoff_hours) AS refundable,
                  c.refund_fee_percent
                FROM reservations r JOIN seats s ON s.id = r.seat_id JOIN concerts c ON c.id = r.concert_id
                WHERE r.id = ${reservationId} FOR UPDATE OF r`,
            { prepared: true },
          );
          if (!row || (by.kind === 'buyer' && row.user_id !== by.userId))
            return refuse({ reason: 'not-found' });
          let after = row;
          const replayed = row.cancelled_at !== null;
          if (!replayed) {
            if (by.kind === 'buyer' && !row.refundable)
              return refuse({ reason: 'cutoff-passed', cutoff: row.cutoff.toISOString() });
            const refund =
              by.kind === 'buyer' ? refundAmount(row.price, row.refund_fee_percent) : row.price;
            after = await cancelLocked(tx, row, by.kind, refund);
          }
          if (by.kind === 'operator')
            await audit.appendIn(tx, {
              ...by.audit,
              action: 'reservation.cancel',
              outcome: 'SUCCESS',
              code: null,
              targetType: 'reservation',
              targetId: String(row.id),
              before: auditView(row),
              after: auditView(after),
            });
          return { value: cancellationOf(after), replayed };
        }),
      );
    },

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

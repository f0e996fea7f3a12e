import { sql, type SQL } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { runOnce, saveResponse, type IdempotencyKey } from '../../db/idempotency.js';
import { queryOne, transaction, violatedConstraint } from '../../db/sql.js';
import { refusable } from '../../shared/outcome.js';
import { activeTraceContext } from '../../shared/tracing.js';
import { RESERVATION_CONFIRMED } from '../events/events.js';
import type { BookingToken, BookingTokens } from '../queue/queue.booking.js';
import type { TokenRecord } from '../queue/queue.store.js';
import { orderLineUuid, paymentRefusal } from './reservations.rules.js';
import type {
  MultiPaymentRequest,
  OrderDto,
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

/** Locks the seat's hold row (a payment's first locks); refuses unless it is this user's live hold. */
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

/**
 * A Postgres array literal of numbers or UUIDs (no element needs quoting), sent as one parameter:
 * drizzle's sql template spreads a JS array into a list of parameters instead.
 */
const arrayLiteral = (values: (number | string)[]): string => `{${values.join(',')}}`;

/**
 * Payments: one held seat (the seed's payment) or several of one concert together, each one
 * transaction and all or nothing.
 */
export function createPostgresPayments(
  database: Database,
  /** The caller's queue token as the payment transaction sees it. */
  tokens: Pick<BookingTokens, 'open'>,
): Pick<ReservationStore, 'pay' | 'payMany'> {
  /** The payment's queue token, refused unless it is live. */
  function liveToken(tx: Executor, record: TokenRecord, refuse: Refuse): BookingToken {
    const token = tokens.open(tx, record, 'pay');
    const dead = token.live();
    if (dead !== null) refuse({ reason: 'token', refusal: dead });
    return token;
  }

  /**
   * The token verified for the concert, and its own expiry as a step of the payment's statement
   * when it is kept in this database (empty otherwise).
   */
  async function expiryStep(token: BookingToken, concertId: number, refuse: Refuse): Promise<SQL> {
    const verified = await token.verify(concertId);
    if (!verified.ok) return refuse({ reason: 'token', refusal: verified.refusal });
    const spend = verified.value.spendStep(sql`EXISTS (SELECT 1 FROM reservation)`);
    return spend ? sql`expired AS (${spend}),` : sql``;
  }

  /**
   * The payment's statement, for one seat or several of one concert (0041), with the holds
   * already locked and checked: one debit of the total, and per seat (a `line`) a reservation, a
   * USE ledger row (its balance_after the running balance, so the ledger reads as if the seats
   * were paid one by one), the hold sold and an outbox event; the token spent once, and the reply
   * saved as the key's result. Every step hangs off the debit's row, so an insufficient balance
   * makes the whole statement a no-op (no row back). `reply` is read `FROM debit`, and reads the
   * `reservation` rows.
   */
  async function charge<T>(
    tx: Executor,
    payment: {
      userId: number;
      concertId: number;
      lines: { seatId: number; hold: LockedHold; uuid: string }[];
      record: TokenRecord;
      key: IdempotencyKey;
      expired: SQL;
      reply: SQL;
    },
  ): Promise<T | undefined> {
    const { userId, concertId, lines, record, reply } = payment;
    const total = lines.reduce((sum, line) => sum + line.hold.price, 0);
    const seatIds = arrayLiteral(lines.map((line) => line.seatId));
    const line = sql`unnest(${seatIds}::bigint[], ${arrayLiteral(lines.map((line) => line.hold.price))}::bigint[],
      ${arrayLiteral(lines.map((line) => line.hold.seat_number))}::int[],
      ${arrayLiteral(lines.map((line) => line.uuid))}::uuid[])
      WITH ORDINALITY AS line(seat_id, price, seat_number, uuid, n)`;
    const paid = await queryOne<{ reply: T }>(
      tx,
      sql`WITH line AS (SELECT * FROM ${line}),
          debit AS (
            UPDATE users SET balance = balance - ${total}, updated_at = now()
            WHERE id = ${userId} AND balance >= ${total} RETURNING balance),
          inserted AS (
            INSERT INTO reservations (reservation_uuid, user_id, concert_id, seat_id, price)
            SELECT line.uuid, ${userId}, ${concertId}, line.seat_id, line.price FROM line, debit
            RETURNING id, seat_id, price, created_at),
          reservation AS (
            SELECT inserted.*, line.seat_number, line.n,
              debit.balance + ${total} - sum(line.price) OVER (ORDER BY line.n) AS balance_after
            FROM inserted JOIN line USING (seat_id), debit),
          ledger AS (
            INSERT INTO point_transactions (user_id, type, amount, balance_after, reservation_id)
            SELECT ${userId}, 'USE', price, balance_after, id FROM reservation),
          sold AS (
            UPDATE seat_holds SET status = 'SOLD'
            WHERE seat_id = ANY(${seatIds}::bigint[]) AND EXISTS (SELECT 1 FROM reservation)),
          event AS (
            INSERT INTO outbox (event_id, type, key, payload, trace_context)
            SELECT e.event_id, ${RESERVATION_CONFIRMED}, ${String(concertId)},
              jsonb_build_object('eventId', e.event_id::text, 'reservationId', e.id,
                'userId', ${userId}::bigint, 'concertId', ${concertId}::bigint, 'seatId', e.seat_id,
                'price', e.price, 'queueToken', ${record.token}::text, 'reservedAt', e.created_at),
              ${activeTraceContext()}::text
            FROM (SELECT gen_random_uuid() AS event_id, reservation.* FROM reservation) e),
          spent AS (
            INSERT INTO spent_queue_tokens (token) SELECT ${record.token} WHERE EXISTS (SELECT 1 FROM reservation)),
          ${payment.expired}
          saved AS (${saveResponse(payment.key, sql`(SELECT ${reply} FROM debit)`)} AND EXISTS (SELECT 1 FROM reservation))
          SELECT ${reply} AS reply FROM debit`,
      { prepared: true },
    );
    return paid?.reply;
  }

  /** The reply's time: the reservations' creation, as an ISO string. */
  const isoOf = (at: SQL) =>
    sql`to_char(${at} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

  /** The seed's payment: one held seat. */
  async function settle(
    tx: Executor,
    request: PaymentRequest,
    record: TokenRecord,
    key: IdempotencyKey,
    refuse: Refuse,
  ): Promise<ReservationDto> {
    const token = liveToken(tx, record, refuse);
    const hold = await lockOwnHold(tx, request.userId, request.seatId, refuse);
    const concertId = hold.concert_id;
    const paid = await charge<ReservationDto>(tx, {
      userId: request.userId,
      concertId,
      lines: [{ seatId: request.seatId, hold, uuid: request.reservationUuid }],
      record,
      key,
      expired: await expiryStep(token, concertId, refuse),
      // The reply is built in SQL and saved in the same statement, so a replay returns exactly it.
      reply: sql`(SELECT jsonb_build_object('reservationId', r.id, 'concertId', ${concertId}::bigint,
        'seatId', r.seat_id, 'seatNumber', r.seat_number, 'price', r.price, 'balance', debit.balance,
        'reservedAt', ${isoOf(sql`r.created_at`)}) FROM reservation r)`,
    });
    return paid ?? refuse({ reason: 'insufficient-balance', price: hold.price });
  }

  /**
   * Several held seats of one concert paid together, all or nothing: the holds locked in seat id
   * order (two payments of the same seats never deadlock), each checked as a single payment checks
   * its own.
   */
  async function settleMany(
    tx: Executor,
    request: MultiPaymentRequest,
    record: TokenRecord,
    key: IdempotencyKey,
    refuse: Refuse,
  ): Promise<OrderDto> {
    const token = liveToken(tx, record, refuse);
    const held = new Map<number, LockedHold>();
    for (const seatId of [...request.seatIds].sort((a, b) => a - b)) {
      // A refusal names the seat it is about: the request has several.
      const refuseSeat: Refuse = (refusal) =>
        refuse(
          refusal.reason === 'claim' || refusal.reason === 'seat-not-found'
            ? { ...refusal, seatId }
            : refusal,
        );
      held.set(seatId, await lockOwnHold(tx, request.userId, seatId, refuseSeat));
    }
    const lines = request.seatIds.map((seatId) => ({
      seatId,
      hold: held.get(seatId) as LockedHold,
      uuid: orderLineUuid(request.reservationUuid, seatId),
    }));
    const concertId = lines[0]?.hold.concert_id;
    if (concertId === undefined || lines.some((line) => line.hold.concert_id !== concertId))
      return refuse({ reason: 'several-concerts' });
    const total = lines.reduce((sum, line) => sum + line.hold.price, 0);
    const paid = await charge<OrderDto>(tx, {
      userId: request.userId,
      concertId,
      lines,
      record,
      key,
      expired: await expiryStep(token, concertId, refuse),
      reply: sql`jsonb_build_object('concertId', ${concertId}::bigint, 'total', ${total}::bigint,
        'balance', debit.balance, 'reservedAt', ${isoOf(sql`now()`)},
        'reservations', (SELECT jsonb_agg(jsonb_build_object('reservationId', r.id, 'seatId', r.seat_id,
          'seatNumber', r.seat_number, 'price', r.price) ORDER BY r.n) FROM reservation r))`,
    });
    return paid ?? refuse({ reason: 'insufficient-balance', price: total });
  }

  /** One payment's transaction: the key claimed first, a spent token a refusal, not an error. */
  const inPayment = <T>(key: IdempotencyKey, work: (tx: Executor, refuse: Refuse) => Promise<T>) =>
    refusable((refuse: Refuse) =>
      transaction(database, (tx) =>
        runOnce(tx, key, () => work(tx, refuse), { workSavesResponse: true }),
      ).catch((error: unknown) => {
        // The token paid already, in a transaction that committed while this one ran.
        if (violatedConstraint(error) === 'spent_queue_tokens_pkey')
          refuse({ reason: 'token-spent' });
        throw error;
      }),
    );

  const keyOf = (request: { userId: number; reservationUuid: string }, fields: unknown) => ({
    userId: request.userId,
    scope: 'reservation' as const,
    key: request.reservationUuid,
    request: fields,
  });

  return {
    pay(request, token) {
      const key = keyOf(request, { seatId: request.seatId });
      return inPayment(key, (tx, refuse) => settle(tx, request, token, key, refuse));
    },
    payMany(request, token) {
      // The same seats in any order are the same payment.
      const key = keyOf(request, { seatIds: [...request.seatIds].sort((a, b) => a - b) });
      return inPayment(key, (tx, refuse) => settleMany(tx, request, token, key, refuse));
    },
  };
}

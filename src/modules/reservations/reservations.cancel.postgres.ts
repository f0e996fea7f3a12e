import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import type { Idempotent } from '../../db/idempotency.js';
import { query, queryOne, transaction } from '../../db/sql.js';
import { refusable } from '../../shared/outcome.js';
import { activeTraceContext } from '../../shared/tracing.js';
import type { AuditLog } from '../audit/audit.store.js';
import { RESERVATION_CANCELLED } from '../events/events.js';
import { refundAmount } from './reservations.rules.js';
import type {
  CancellationDto,
  Canceller,
  CancelRefusal,
  ReservationStore,
  ShowCancelJob,
} from './reservations.store.js';

/** Cancellations (a buyer's, an operator's, a cancelled show's batches) and the show-cancel job. */

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

interface JobRow {
  concert_id: number;
  state: 'running' | 'done';
  reason: string | null;
  requested_by: string;
  total: number;
  refunded: number;
  remaining: number;
  created_at: Date;
  finished_at: Date | null;
}

const jobOf = (row: JobRow): ShowCancelJob => ({
  concertId: row.concert_id,
  state: row.state,
  reason: row.reason,
  requestedBy: row.requested_by,
  total: row.total,
  refunded: row.refunded,
  remaining: row.remaining,
  startedAt: row.created_at.toISOString(),
  finishedAt: row.finished_at?.toISOString() ?? null,
});

/** The concert's live reservations (reservations_concert_live_idx). */
const liveCount = (concertId: number) =>
  sql`(SELECT count(*)::int FROM reservations WHERE concert_id = ${concertId} AND cancelled_at IS NULL)`;

/** Releases the concert's holds that are not sales (a cancelled show's seats are not held). */
const releaseHolds = (tx: Executor, concertId: number) =>
  query(
    tx,
    sql`DELETE FROM seat_holds h USING seats s
        WHERE s.id = h.seat_id AND s.concert_id = ${concertId} AND h.status = 'HELD'`,
    { prepared: true },
  );

/** The job with its remaining count, read in `tx` (or on its own). */
const readJob = (tx: Executor, concertId: number) =>
  queryOne<JobRow>(
    tx,
    sql`SELECT concert_id, state, reason, requested_by, total, refunded, ${liveCount(concertId)} AS remaining,
          created_at, finished_at
        FROM show_cancel_jobs WHERE concert_id = ${concertId}`,
    { prepared: true },
  );

export function createPostgresCancellations(
  database: Database,
  /** Operators' cancellations are recorded in their transaction. */
  audit: Pick<AuditLog, 'appendIn'>,
): Pick<ReservationStore, 'cancel' | 'cancelShow' | 'showCancelJob' | 'cancelShowBatch'> {
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
            INSERT INTO outbox (event_id, type, key, payload, trace_context)
            SELECT ${eventId}, ${RESERVATION_CANCELLED}, ${String(row.concert_id)},
              jsonb_build_object('eventId', ${eventId}::text, 'reservationId', ${row.id}::bigint,
                'userId', ${row.user_id}::bigint, 'concertId', ${row.concert_id}::bigint,
                'seatId', ${row.seat_id}::bigint, 'price', ${row.price}::bigint,
                'refundAmount', ${refund}::bigint, 'cancelledBy', ${by}::text,
                'cancelledAt', cancel.cancelled_at),
              ${activeTraceContext()}::text
            FROM cancel)
          SELECT cancel.cancelled_at FROM cancel, credit`,
      { prepared: true },
    );
    // The reservation row is locked and was live: the statement cannot have found it cancelled.
    if (!done) throw new Error(`reservation ${row.id} could not be cancelled`);
    return { ...row, cancelled_at: done.cancelled_at, cancelled_by: by, refund_amount: refund };
  }

  /** A cancellation in the caller's transaction (a single one, or one of a show's batch). */
  async function cancelIn(
    tx: Executor,
    reservationId: number,
    by: Canceller,
    refuse: (refusal: CancelRefusal) => never,
  ): Promise<Idempotent<CancellationDto>> {
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
  }

  return {
    cancel(reservationId, by) {
      return refusable((refuse: (refusal: CancelRefusal) => never) =>
        transaction(database, (tx) => cancelIn(tx, reservationId, by, refuse)),
      );
    },

    cancelShow(concertId, reason, context) {
      return refusable((refuse: (refusal: { reason: 'concert-not-found' }) => never) =>
        transaction(database, async (tx) => {
          // The concert row is the first lock: a repeat waits here for the first to commit, then
          // finds the job. Holds and payments read cancelled_at in their own statements.
          const concert = await queryOne<{ cancelled_at: Date }>(
            tx,
            sql`UPDATE concerts SET cancelled_at = coalesce(cancelled_at, now())
                WHERE id = ${concertId} RETURNING cancelled_at`,
          );
          if (!concert) return refuse({ reason: 'concert-not-found' });
          const created = await queryOne(
            tx,
            sql`INSERT INTO show_cancel_jobs (concert_id, reason, requested_by, total)
                VALUES (${concertId}, ${reason}, ${context.actor}, ${liveCount(concertId)})
                ON CONFLICT (concert_id) DO NOTHING RETURNING 1`,
          );
          if (created) await releaseHolds(tx, concertId);
          const job = await readJob(tx, concertId);
          if (!job) throw new Error(`show-cancel job of concert ${concertId} is missing`);
          await audit.appendIn(tx, {
            ...context,
            action: 'concert.cancel',
            outcome: 'SUCCESS',
            code: null,
            targetType: 'concert',
            targetId: String(concertId),
            before: created ? { cancelledAt: null } : { cancelledAt: concert.cancelled_at },
            after: { cancelledAt: concert.cancelled_at, reason: job.reason, total: job.total },
          });
          return { value: jobOf(job), replayed: !created };
        }),
      );
    },

    async showCancelJob(concertId) {
      const job = await readJob(database, concertId);
      return job ? jobOf(job) : null;
    },

    cancelShowBatch(limit) {
      return transaction(database, async (tx) => {
        // The job row is the lease: one batch of a job at a time across instances; a batch
        // that dies (crash, kill -9) rolls back whole and frees the row for anyone.
        const job = await queryOne<{ concert_id: number; requested_by: string }>(
          tx,
          sql`SELECT concert_id, requested_by FROM show_cancel_jobs WHERE state = 'running'
              ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
          { prepared: true },
        );
        if (!job) return null;
        const concertId = job.concert_id;
        const batch = await query<{ id: number }>(
          tx,
          sql`SELECT id FROM reservations WHERE concert_id = ${concertId} AND cancelled_at IS NULL
              ORDER BY id LIMIT ${limit}`,
          { prepared: true },
        );
        const by: Canceller = {
          kind: 'operator',
          audit: { actor: job.requested_by, requestId: `show-cancel:${concertId}` },
        };
        let refunded = 0;
        for (const { id: reservationId } of batch) {
          // The same cancellation as an operator's single one (locked row, one statement,
          // audit); a buyer who cancelled meanwhile makes it a replay, counted by nobody here.
          const outcome = await refusable((refuse: (refusal: CancelRefusal) => never) =>
            cancelIn(tx, reservationId, by, refuse),
          );
          if (outcome.ok && !outcome.value.replayed) refunded++;
        }
        // A hold that raced the cancellation's commit is released before the job reports done,
        // after the batch's reservations are locked (lock order reservation → seat hold).
        await releaseHolds(tx, concertId);
        const done = await queryOne<{ state: 'running' | 'done' }>(
          tx,
          sql`UPDATE show_cancel_jobs
              SET refunded = refunded + ${refunded},
                  total = greatest(total, refunded + ${refunded} + ${liveCount(concertId)}),
                  state = CASE WHEN ${liveCount(concertId)} = 0 THEN 'done' ELSE 'running' END,
                  finished_at = CASE WHEN ${liveCount(concertId)} = 0 THEN now() END
              WHERE concert_id = ${concertId} RETURNING state`,
        );
        return { concertId, refunded, done: done?.state === 'done' };
      });
    },
  };
}

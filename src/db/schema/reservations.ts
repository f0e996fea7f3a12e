import { sql } from 'drizzle-orm';
import {
  bigserial,
  check,
  index,
  integer,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { at, id, money } from './columns.js';
import { users } from './balance.js';
import { concerts, seats } from './concerts.js';

export const reservations = pgTable(
  'reservations',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    reservationUuid: uuid('reservation_uuid').notNull(),
    userId: id('user_id')
      .notNull()
      .references(() => users.id),
    concertId: id('concert_id')
      .notNull()
      .references(() => concerts.id),
    seatId: id('seat_id')
      .notNull()
      .references(() => seats.id),
    price: money('price').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    // Set together, once, by a cancellation (buyer or operator); a live reservation has none.
    cancelledAt: at('cancelled_at'),
    cancelledBy: text('cancelled_by', { enum: ['buyer', 'operator'] }),
    refundAmount: money('refund_amount'),
  },
  (t) => [
    // A seat has at most one live reservation, whatever the application does; a cancelled one
    // leaves the seat to be sold again.
    uniqueIndex('reservations_seat_key')
      .on(t.seatId)
      .where(sql`${t.cancelledAt} IS NULL`),
    // A cancellation is all three columns or none, and refunds at most the price paid.
    check(
      'reservations_cancellation',
      sql`(${t.cancelledAt} IS NULL AND ${t.cancelledBy} IS NULL AND ${t.refundAmount} IS NULL)
        OR (${t.cancelledAt} IS NOT NULL AND ${t.cancelledBy} IS NOT NULL AND ${t.refundAmount} IS NOT NULL
          AND ${t.cancelledBy} IN ('buyer', 'operator')
          AND ${t.refundAmount} >= 0 AND ${t.refundAmount} <= ${t.price})`,
    ),
    // One reservation per client key per user; also "my reservations" by user.
    uniqueIndex('reservations_user_uuid_key').on(t.userId, t.reservationUuid),
    index('reservations_user_idx').on(t.userId, t.id),
    // A show's cancellation job: the concert's live reservations, a batch at a time (0039).
    index('reservations_concert_live_idx')
      .on(t.concertId, t.id)
      .where(sql`${t.cancelledAt} IS NULL`),
  ],
);

/**
 * A show's cancellation, run as a job (0039): one row per concert (the primary key makes a repeat
 * answer the same job), worked through in batches by any instance; `refunded` counts the
 * reservations its batches cancelled, `total` the live ones when it started.
 */
export const showCancelJobs = pgTable(
  'show_cancel_jobs',
  {
    concertId: id('concert_id')
      .primaryKey()
      .references(() => concerts.id),
    state: text('state', { enum: ['running', 'done'] })
      .notNull()
      .default('running'),
    reason: text('reason'),
    requestedBy: text('requested_by').notNull(),
    total: integer('total').notNull(),
    refunded: integer('refunded').notNull().default(0),
    createdAt: at('created_at').notNull().defaultNow(),
    finishedAt: at('finished_at'),
  },
  (t) => [
    check('show_cancel_jobs_state', sql`${t.state} IN ('running', 'done')`),
    check('show_cancel_jobs_finished', sql`(${t.state} = 'done') = (${t.finishedAt} IS NOT NULL)`),
    check('show_cancel_jobs_counts', sql`${t.refunded} >= 0 AND ${t.total} >= 0`),
    // The workers' look for work: running jobs only.
    index('show_cancel_jobs_running_idx')
      .on(t.createdAt)
      .where(sql`${t.state} = 'running'`),
  ],
);

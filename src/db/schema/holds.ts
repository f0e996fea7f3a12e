import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { at, id } from './columns.js';
import { seats } from './concerts.js';

/**
 * The claim on each seat: at most one row per seat (primary key). A row is a live hold while
 * status = HELD and expires_at > now(); an expired HELD row is taken over atomically by the next
 * hold (INSERT … ON CONFLICT DO UPDATE … WHERE expired), and SOLD rows are never taken over.
 */
export const seatHolds = pgTable(
  'seat_holds',
  {
    seatId: id('seat_id')
      .primaryKey()
      .references(() => seats.id),
    /**
     * The seat's concert, copied from the seat by the trigger seat_holds_concert (migration 0011),
     * whatever the writer sends: a concert's holds and sales are then found by this index
     * instead of through every seat of the concert (docs/decisions/0052).
     */
    concertId: id('concert_id').notNull(),
    userId: id('user_id').notNull(),
    holdUuid: uuid('hold_uuid').notNull(),
    status: text('status', { enum: ['HELD', 'SOLD'] }).notNull(),
    expiresAt: at('expires_at').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    check('seat_holds_status', sql`${t.status} IN ('HELD', 'SOLD')`),
    // A buyer's rows (held and sold): the ticket-limit trigger counts them per concert by both
    // keys (on user_id alone its cached plan AND-ed in every hold of the concert, 0065), and
    // pay/release/grace checks find the user's holds by user id. The limit itself (one HELD row
    // per user and concert at ticket_limit 1, up to N held and sold above) is the trigger
    // seat_holds_ticket_limit in migration 0009 (docs/decisions/0041).
    index('seat_holds_user_concert_idx').on(t.userId, t.concertId),
    index('seat_holds_concert_idx').on(t.concertId),
  ],
);

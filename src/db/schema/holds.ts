import { sql } from 'drizzle-orm';
import { check, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
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
    userId: id('user_id').notNull(),
    holdUuid: uuid('hold_uuid').notNull(),
    status: text('status', { enum: ['HELD', 'SOLD'] }).notNull(),
    expiresAt: at('expires_at').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    check('seat_holds_status', sql`${t.status} IN ('HELD', 'SOLD')`),
    // One HELD row per user (live or expired): "one live hold per user" holds in the database,
    // and pay/release/grace checks find the user's hold by user id.
    uniqueIndex('seat_holds_held_user_key')
      .on(t.userId)
      .where(sql`${t.status} = 'HELD'`),
  ],
);

import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { at, id, money } from './columns.js';
import { venues } from './venues.js';

export const concerts = pgTable(
  'concerts',
  {
    // The list is a handful of rows read whole and sorted in memory by the planner.
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    title: text('title').notNull(),
    venue: text('venue').notNull(),
    // The venue whose seat map the concert's seats come from (null: seats made directly, the demo's).
    venueId: id('venue_id').references(() => venues.id),
    showDatetime: at('show_datetime').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    // Refund policy: a buyer may cancel until this many hours before the show, and gets the
    // price back minus this percentage (rounded in the buyer's favour).
    refundCutoffHours: integer('refund_cutoff_hours').notNull().default(24),
    refundFeePercent: integer('refund_fee_percent').notNull().default(0),
    // Set once when an operator cancels the show: from then on holds and payments are refused
    // in their own statements, and the show-cancel job refunds every reservation (0039).
    cancelledAt: at('cancelled_at'),
  },
  (t) => [
    // Whether a venue is in use (its map may no longer change).
    index('concerts_venue_idx').on(t.venueId),
    check('concerts_refund_cutoff_hours', sql`${t.refundCutoffHours} >= 0`),
    check(
      'concerts_refund_fee_percent',
      sql`${t.refundFeePercent} >= 0 AND ${t.refundFeePercent} <= 100`,
    ),
  ],
);

export const seats = pgTable(
  'seats',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    concertId: id('concert_id')
      .notNull()
      .references(() => concerts.id),
    seatNumber: integer('seat_number').notNull(),
    price: money('price').notNull(),
  },
  (t) => [
    check('seats_number_positive', sql`${t.seatNumber} >= 1`),
    check('seats_price_positive', sql`${t.price} > 0`),
    // The seat map of one concert in seat order (the seed's 33x composite index), and no
    // duplicate seat numbers.
    uniqueIndex('seats_concert_number_key').on(t.concertId, t.seatNumber),
  ],
);

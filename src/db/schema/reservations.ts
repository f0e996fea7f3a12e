import { sql } from 'drizzle-orm';
import { bigserial, check, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
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
  ],
);

import { bigserial, index, pgTable, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
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
  },
  (t) => [
    // A seat is sold at most once, whatever the application does.
    uniqueIndex('reservations_seat_key').on(t.seatId),
    // One reservation per client key per user; also "my reservations" by user.
    uniqueIndex('reservations_user_uuid_key').on(t.userId, t.reservationUuid),
    index('reservations_user_idx').on(t.userId, t.id),
  ],
);

import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  check,
  index,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { at, id } from './columns.js';

export const queueTokens = pgTable(
  'queue_tokens',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    // Place in arrival order, gapless: taken from queue_counter in the joining statement (see
    // queue_counter). Null only for rows older than the column.
    arrival: bigint('arrival', { mode: 'number' }),
    // The room (docs/rooms.md): its concert's id, 0 for the house room. Arrivals, positions, the
    // active count and the one live token per user are per room.
    roomId: id('room_id').notNull().default(0),
    token: text('token').notNull(),
    userId: id('user_id').notNull(),
    status: text('status', { enum: ['WAITING', 'ACTIVE', 'EXPIRED'] }).notNull(),
    enteredAt: at('entered_at').notNull().defaultNow(),
    activatedAt: at('activated_at'),
    // End of free shopping; expires_at may reach past it while a seat hold keeps the token alive
    // for that hold's concert (hold_concert_id).
    activeUntil: at('active_until'),
    expiresAt: at('expires_at'),
    holdConcertId: id('hold_concert_id'),
    lastSeenAt: at('last_seen_at').notNull().defaultNow(),
    expiredAt: at('expired_at'),
  },
  (t) => [
    check('queue_tokens_status', sql`${t.status} IN ('WAITING', 'ACTIVE', 'EXPIRED')`),
    check(
      'queue_tokens_active_has_expiry',
      sql`${t.status} <> 'ACTIVE' OR (${t.expiresAt} IS NOT NULL AND ${t.activeUntil} IS NOT NULL)`,
    ),
    // Every queue-protected request looks its token up by value.
    uniqueIndex('queue_tokens_token_key').on(t.token),
    // One live token per user and room: concurrent joins of one user converge on one row, and
    // re-entry finds it by user id.
    uniqueIndex('queue_tokens_live_user_key')
      .on(t.roomId, t.userId)
      .where(sql`${t.status} IN ('WAITING', 'ACTIVE')`),
    // Head of the line: admission takes the lowest arrivals, a position starts from the lowest.
    index('queue_tokens_waiting_arrival_idx')
      .on(t.roomId, t.arrival)
      .where(sql`${t.status} = 'WAITING'`),
    // Tokens that left the line without being admitted: a position subtracts those between the
    // head and itself (a handful), instead of counting everyone ahead.
    index('queue_tokens_departed_arrival_idx')
      .on(t.roomId, t.arrival)
      .where(sql`${t.status} = 'EXPIRED' AND ${t.activatedAt} IS NULL`),
    // Idle WAITING tokens for the expiry sweep.
    index('queue_tokens_waiting_seen_idx')
      .on(t.lastSeenAt)
      .where(sql`${t.status} = 'WAITING'`),
    // ACTIVE tokens: the active count (at most MAX_ACTIVE rows) and the expiry sweep.
    index('queue_tokens_active_expiry_idx')
      .on(t.expiresAt)
      .where(sql`${t.status} = 'ACTIVE'`),
    // The active count of one room.
    index('queue_tokens_active_room_idx')
      .on(t.roomId)
      .where(sql`${t.status} = 'ACTIVE'`),
    // Purge of old EXPIRED rows.
    index('queue_tokens_expired_at_idx')
      .on(t.expiredAt)
      .where(sql`${t.status} = 'EXPIRED'`),
  ],
);

/**
 * The arrival counter of the Postgres waiting room: one row. A join takes the next number in the
 * same statement that inserts its token, holding the row lock until that statement commits, so
 * numbers are given out in commit order without gaps — an admission never sees a later arrival
 * while an earlier one is still being written, and a position is arithmetic:
 * my arrival − head arrival + 1 − (departed and skipped numbers in between).
 */
export const queueCounter = pgTable('queue_counter', {
  // 1 for the house room (as before rooms), the room's concert id + 1 for a room.
  id: id('id').primaryKey(),
  lastArrival: bigint('last_arrival', { mode: 'number' }).notNull(),
});

/**
 * Arrival numbers a join took but did not use (the user turned out to have a live token): the
 * line skips them like departures.
 */
export const queueSkippedArrivals = pgTable(
  'queue_skipped_arrivals',
  {
    roomId: id('room_id').notNull().default(0),
    arrival: bigint('arrival', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.arrival] })],
);

/**
 * Queue tokens that paid: the payment inserts its token here in its own transaction, so a second
 * payment on the same token fails on the key whichever waiting room keeps the token (a Redis
 * token is read before the transaction and expired only after commit). Purged after the
 * retention period, long after any token could still be live.
 */
export const spentQueueTokens = pgTable(
  'spent_queue_tokens',
  {
    token: text('token').primaryKey(),
    spentAt: at('spent_at').notNull().defaultNow(),
  },
  (t) => [index('spent_queue_tokens_spent_at_idx').on(t.spentAt)],
);

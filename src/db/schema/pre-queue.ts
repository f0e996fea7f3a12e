import { sql } from 'drizzle-orm';
import { bigserial, index, integer, pgTable, primaryKey, text, check } from 'drizzle-orm/pg-core';
import { at, id } from './columns.js';
import { rooms } from './rooms.js';

/**
 * A room's pre-queue (docs/rooms.md, decision 0056): buyers who joined before its opening, kept
 * here whatever the queue backend. At the opening each gets its `place` by the lottery; then
 * every row enters the room's line in place order (late arrivals, place null, behind them in
 * `seq` order) and is marked `moved_at`. The token is the one the line gives it then.
 */
export const preQueue = pgTable(
  'pre_queue',
  {
    concertId: id('concert_id')
      .notNull()
      .references(() => rooms.concertId, { onDelete: 'cascade' }),
    userId: id('user_id').notNull(),
    // Public at the opening: 16 random bytes, base64url (queue.lottery.ts).
    receiptId: text('receipt_id').notNull().unique(),
    // The queue token the entry will have in the line (chosen now, used by the move).
    token: text('token').notNull().unique(),
    // Arrival order: late arrivals (after the draw) enter the line in this order.
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    joinedAt: at('joined_at').notNull().defaultNow(),
    // The lottery place (1 = first); null until the opening, and for late arrivals.
    place: integer('place'),
    movedAt: at('moved_at'),
  },
  (t) => [
    primaryKey({ columns: [t.concertId, t.userId] }),
    check('pre_queue_place', sql`${t.place} >= 1`),
    index('pre_queue_to_move_idx')
      .on(t.concertId, t.place, t.seq)
      .where(sql`${t.movedAt} IS NULL`),
    index('pre_queue_draw_idx').on(t.concertId, t.place),
  ],
);

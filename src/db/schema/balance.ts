import { sql } from 'drizzle-orm';
import { bigserial, check, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { at, id, money } from './columns.js';

export const users = pgTable(
  'users',
  {
    id: id('id').primaryKey(),
    balance: money('balance').notNull().default(0),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [check('users_balance_non_negative', sql`${t.balance} >= 0`)],
);

export const pointTransactions = pgTable(
  'point_transactions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: id('user_id')
      .notNull()
      .references(() => users.id),
    type: text('type', { enum: ['CHARGE', 'USE', 'REFUND'] }).notNull(),
    amount: money('amount').notNull(),
    balanceAfter: money('balance_after').notNull(),
    reservationId: id('reservation_id'),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    check('point_transactions_amount_positive', sql`${t.amount} > 0`),
    check('point_transactions_type', sql`${t.type} IN ('CHARGE', 'USE', 'REFUND')`),
    // A USE and a REFUND belong to a reservation; a CHARGE to none.
    check(
      'point_transactions_reservation',
      sql`(${t.type} = 'CHARGE') = (${t.reservationId} IS NULL)`,
    ),
    // A reservation is refunded at most once (the cancellation's one REFUND row).
    uniqueIndex('point_transactions_refund_key')
      .on(t.reservationId)
      .where(sql`${t.type} = 'REFUND'`),
    // A user's ledger in order (history, and the audit "ledger sum = balance").
    index('point_transactions_user_idx').on(t.userId, t.id),
  ],
);

import { sql } from 'drizzle-orm';
import { bigserial, check, index, pgTable, text } from 'drizzle-orm/pg-core';
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
    type: text('type', { enum: ['CHARGE', 'USE'] }).notNull(),
    amount: money('amount').notNull(),
    balanceAfter: money('balance_after').notNull(),
    reservationId: id('reservation_id'),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    check('point_transactions_amount_positive', sql`${t.amount} > 0`),
    check('point_transactions_type', sql`${t.type} IN ('CHARGE', 'USE')`),
    // A user's ledger in order (history, and the audit "ledger sum = balance").
    index('point_transactions_user_idx').on(t.userId, t.id),
  ],
);

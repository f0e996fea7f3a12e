import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { at } from './columns.js';

/**
 * Spent proof-of-work challenges (decision 0051), on QUEUE_BACKEND=postgres: a join inserts its
 * challenge's nonce, and the primary key lets exactly one join per nonce through, on any
 * instance. Kept until `expires_at` (the challenge's expiry plus a clock margin), then purged by
 * housekeeping; a row past it no longer counts (the challenge itself is refused as expired).
 */
export const powSpentNonces = pgTable(
  'pow_spent_nonces',
  {
    nonce: text('nonce').primaryKey(),
    expiresAt: at('expires_at').notNull(),
  },
  (t) => [index('pow_spent_nonces_expires_at_idx').on(t.expiresAt)],
);

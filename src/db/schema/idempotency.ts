import { index, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { at, id } from './columns.js';

/**
 * Results of idempotent requests (charge Idempotency-Key, seatHoldUuid, reservationUuid), per
 * user and kind. The row is claimed first in the request's transaction, so a concurrent replay
 * waits on it and then reads the committed result; a failed request rolls back its claim.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: id('user_id').notNull(),
    scope: text('scope', { enum: ['charge', 'hold', 'reservation'] }).notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    response: jsonb('response'),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.scope, t.key] }),
    // Purge of old keys.
    index('idempotency_keys_created_idx').on(t.createdAt),
  ],
);

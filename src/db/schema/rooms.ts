import { sql } from 'drizzle-orm';
import { check, doublePrecision, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { at, id } from './columns.js';
import { concerts } from './concerts.js';

/**
 * A concert's own waiting room (docs/rooms.md): its settings, changed live by operators. The
 * house room (every concert without a room) has no row: its settings come from the config.
 */
export const rooms = pgTable(
  'rooms',
  {
    concertId: id('concert_id')
      .primaryKey()
      .references(() => concerts.id),
    maxActive: integer('max_active').notNull(),
    // Buyers admitted per minute at most, across all instances (null: no rate limit).
    admissionPerMinute: integer('admission_per_minute'),
    state: text('state', { enum: ['open', 'paused', 'queue-all', 'closed'] })
      .notNull()
      .default('open'),
    // The rate limit's allowance (a token bucket), kept under the admission lock (postgres
    // backend): admissions it still allows, as of allowance_at.
    allowance: doublePrecision('allowance').notNull().default(1),
    allowanceAt: at('allowance_at').notNull().defaultNow(),
    // Leading zero bits a join's proof of work must have (0: none; decision 0051, docs/rooms.md).
    powDifficulty: integer('pow_difficulty').notNull().default(0),
    createdAt: at('created_at').notNull().defaultNow(),
    // Instances reload the rooms changed since their last read once a second (this index).
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [
    check('rooms_state', sql`${t.state} IN ('open', 'paused', 'queue-all', 'closed')`),
    check('rooms_max_active', sql`${t.maxActive} BETWEEN 1 AND 100000`),
    check('rooms_admission_rate', sql`${t.admissionPerMinute} BETWEEN 1 AND 1000000`),
    check('rooms_pow_difficulty', sql`${t.powDifficulty} BETWEEN 0 AND 32`),
    index('rooms_updated_at_idx').on(t.updatedAt),
  ],
);

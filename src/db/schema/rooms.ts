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
    // The scheduled opening (decision 0056): joins before pre_queue_opens_at are refused, joins
    // from then until the opening wait in the pre-queue, drawn at opens_at.
    opensAt: at('opens_at'),
    preQueueOpensAt: at('pre_queue_opens_at'),
    // The lottery's secret seed (hex) and its published SHA-256 (queue.lottery.ts); the seed is
    // public from opened_at on and never changes once the commitment exists.
    seed: text('seed'),
    commitment: text('commitment'),
    // Set once, by the one transaction that draws the pre-queue.
    openedAt: at('opened_at'),
    // Every pre-queue entry is in the line: joins go straight to the line again.
    transferredAt: at('transferred_at'),
  },
  (t) => [
    check('rooms_state', sql`${t.state} IN ('open', 'paused', 'queue-all', 'closed')`),
    check('rooms_max_active', sql`${t.maxActive} BETWEEN 1 AND 100000`),
    check('rooms_admission_rate', sql`${t.admissionPerMinute} BETWEEN 1 AND 1000000`),
    check('rooms_pow_difficulty', sql`${t.powDifficulty} BETWEEN 0 AND 32`),
    index('rooms_updated_at_idx').on(t.updatedAt),
    check('rooms_pre_queue_before_opening', sql`${t.preQueueOpensAt} < ${t.opensAt}`),
    check('rooms_seed_committed', sql`(${t.seed} IS NULL) = (${t.commitment} IS NULL)`),
    // The openings not yet done: what every instance's opening loop looks at.
    index('rooms_pending_opening_idx')
      .on(t.opensAt)
      .where(sql`${t.opensAt} IS NOT NULL AND ${t.transferredAt} IS NULL`),
  ],
);

import { bigint, index, pgTable } from 'drizzle-orm/pg-core';
import { at, id } from './columns.js';
import { concerts } from './concerts.js';

export const concertRanking = pgTable(
  'concert_ranking',
  {
    concertId: id('concert_id')
      .primaryKey()
      .references(() => concerts.id),
    confirmedCount: bigint('confirmed_count', { mode: 'number' }).notNull().default(0),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  // The popular list: top N by count, ties by concert id, read straight off the index.
  (t) => [index('concert_ranking_count_idx').on(t.confirmedCount.desc(), t.concertId)],
);

import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { at, id, money } from './columns.js';
import { venues } from './venues.js';

export const concerts = pgTable(
  'concerts',
  {
    // The list is a handful of rows read whole and sorted in memory by the planner.
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    title: text('title').notNull(),
    // The venue's name as the seed's contract shows it (copied from the venue when there is one).
    venue: text('venue').notNull(),
    // The venue whose seat map the concert's seats come from (null: seats made directly, the demo's).
    venueId: id('venue_id').references(() => venues.id),
    showDatetime: at('show_datetime').notNull(),
    description: text('description').notNull().default(''),
    // The sale window (docs/decisions/0036): null opens at once / closes with the show, as the
    // demo's concerts always did; holds and payments outside it are refused by their statements.
    saleOpensAt: at('sale_opens_at'),
    saleClosesAt: at('sale_closes_at'),
    // Seats one buyer may have (stored; only 1 is enforced so far).
    ticketLimit: integer('ticket_limit').notNull().default(1),
    // Lifetime of a new hold (null: SEAT_HOLD_TTL_SECONDS, the demo's behaviour).
    holdSeconds: integer('hold_seconds'),
    // Refund policy: refunds up to this many hours before the show, minus this fee.
    refundCutoffHours: integer('refund_cutoff_hours').notNull().default(24),
    refundFeePercent: integer('refund_fee_percent').notNull().default(0),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
    // Set once when an operator cancels the show: from then on holds and payments are refused
    // in their own statements, and the show-cancel job refunds every reservation (0039).
    cancelledAt: at('cancelled_at'),
  },
  (t) => [
    // Whether a venue is in use (its map may no longer change).
    index('concerts_venue_idx').on(t.venueId),
    check('concerts_ticket_limit_positive', sql`${t.ticketLimit} >= 1`),
    check('concerts_hold_seconds_range', sql`${t.holdSeconds} BETWEEN 10 AND 3600`),
    check('concerts_refund_cutoff_hours', sql`${t.refundCutoffHours} >= 0`),
    check('concerts_refund_fee_percent', sql`${t.refundFeePercent} BETWEEN 0 AND 100`),
    check(
      'concerts_sale_window',
      sql`${t.saleClosesAt} IS NULL OR (${t.saleClosesAt} <= ${t.showDatetime}
          AND (${t.saleOpensAt} IS NULL OR ${t.saleOpensAt} < ${t.saleClosesAt}))`,
    ),
  ],
);

/** A concert's price categories: a name and a price, mapped to whole sections. */
export const concertPriceCategories = pgTable(
  'concert_price_categories',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    concertId: id('concert_id')
      .notNull()
      .references(() => concerts.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    name: text('name').notNull(),
    price: money('price').notNull(),
  },
  (t) => [
    check('concert_price_categories_price_positive', sql`${t.price} > 0`),
    // A concert's categories in the order written; no two with one name.
    uniqueIndex('concert_price_categories_position_key').on(t.concertId, t.position),
    uniqueIndex('concert_price_categories_name_key').on(t.concertId, t.name),
  ],
);

/** A concert's sections, copied from its venue's map, each with exactly one price category. */
export const concertSections = pgTable(
  'concert_sections',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    concertId: id('concert_id')
      .notNull()
      .references(() => concerts.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    // The section in URLs (/sections/{key}/seats): the name made URL-safe, unique per concert.
    key: text('key').notNull(),
    name: text('name').notNull(),
    kind: text('kind', { enum: ['seated', 'general-admission'] }).notNull(),
    capacity: integer('capacity').notNull(),
    priceCategoryId: id('price_category_id')
      .notNull()
      .references(() => concertPriceCategories.id),
  },
  (t) => [
    check('concert_sections_kind', sql`${t.kind} IN ('seated', 'general-admission')`),
    // The buyer's section list in map order; a key names one section of the concert.
    uniqueIndex('concert_sections_position_key').on(t.concertId, t.position),
    uniqueIndex('concert_sections_key_key').on(t.concertId, t.key),
  ],
);

export const seats = pgTable(
  'seats',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    concertId: id('concert_id')
      .notNull()
      .references(() => concerts.id),
    seatNumber: integer('seat_number').notNull(),
    price: money('price').notNull(),
    // Copied from the venue's map when the concert has one (a later venue edit cannot change a
    // sold ticket); null for seats made directly (the demo's).
    sectionKey: text('section_key'),
    sectionName: text('section_name'),
    rowLabel: text('row_label'),
    seatLabel: text('seat_label'),
    priceCategoryId: id('price_category_id').references(() => concertPriceCategories.id),
  },
  (t) => [
    check('seats_number_positive', sql`${t.seatNumber} >= 1`),
    check('seats_price_positive', sql`${t.price} > 0`),
    // The seat map of one concert in seat order (the seed's 33x composite index), and no
    // duplicate seat numbers.
    uniqueIndex('seats_concert_number_key').on(t.concertId, t.seatNumber),
    // One section's seats in seat order (GET …/sections/{key}/seats) and the per-section counts.
    index('seats_concert_section_idx').on(t.concertId, t.sectionKey, t.seatNumber),
  ],
);

import { sql } from 'drizzle-orm';
import { bigserial, check, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { at, id } from './columns.js';

/**
 * A venue and its seat map (docs/decisions/0033). The map is kept expanded, one row per seat, so
 * a concert on the venue can copy its seats in one INSERT … SELECT; the compact form a request
 * may use is only a way to write it.
 */
export const venues = pgTable('venues', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  name: text('name').notNull(),
  address: text('address').notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
  updatedAt: at('updated_at').notNull().defaultNow(),
});

/** Sections of a venue's map, in map order: seated (rows of labelled seats) or general admission. */
export const venueSections = pgTable(
  'venue_sections',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    venueId: id('venue_id')
      .notNull()
      .references(() => venues.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    name: text('name').notNull(),
    kind: text('kind', { enum: ['seated', 'general-admission'] }).notNull(),
    // General admission: the places sold; seated: the number of its seats.
    capacity: integer('capacity').notNull(),
  },
  (t) => [
    check('venue_sections_kind', sql`${t.kind} IN ('seated', 'general-admission')`),
    check('venue_sections_capacity_positive', sql`${t.capacity} >= 1`),
    // A venue's sections in map order, and no two with one name.
    uniqueIndex('venue_sections_venue_position_key').on(t.venueId, t.position),
    uniqueIndex('venue_sections_venue_name_key').on(t.venueId, t.name),
  ],
);

/** The seats of seated sections, in section order (row by row). */
export const venueSeats = pgTable(
  'venue_seats',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sectionId: id('section_id')
      .notNull()
      .references(() => venueSections.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    rowName: text('row_name').notNull(),
    label: text('label').notNull(),
  },
  (t) => [
    // A section's seats in order (the map read back, and a concert's seats copied from it); a
    // label names one seat of its section.
    uniqueIndex('venue_seats_section_position_key').on(t.sectionId, t.position),
    uniqueIndex('venue_seats_section_label_key').on(t.sectionId, t.label),
  ],
);

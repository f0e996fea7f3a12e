import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { query, queryOne } from '../../db/sql.js';
import type { ConcertStore, SeatDto, SectionDto } from './concerts.store.js';

/**
 * The concert sells now: the show is ahead, not cancelled, and its sale window, if it has one, is open (the
 * demo's concerts have none: only the show time counts, as before).
 */
const onSale = sql`(c.show_datetime > now() AND c.cancelled_at IS NULL
  AND coalesce(c.sale_opens_at <= now(), true) AND coalesce(c.sale_closes_at > now(), true))`;

/** A seat is free when nobody holds it (or the hold expired) and it is not sold. */
const seatIsFree = sql`(h.seat_id IS NULL OR (h.status = 'HELD' AND h.expires_at <= now()))`;

interface SeatRow {
  id: number;
  seat_number: number;
  price: number;
  available: boolean;
  state: SeatDto['state'];
  section_key: string | null;
  section_name: string | null;
  row_label: string | null;
  seat_label: string | null;
  category: string | null;
}

/**
 * Seats with their availability, section, row, label and price category, in seat order. The holds
 * are joined on their concert too (always the seat's, 0052), so the planner reads the concert's
 * holds by index instead of every hold of every concert (a section of 1,000 seats: 2,001 → 1,001).
 */
const seatRows = (where: SQL) => sql`
  SELECT s.id, s.seat_number, s.price, ${onSale} AND ${seatIsFree} AS available,
         CASE WHEN h.status = 'SOLD' THEN 'sold' WHEN ${seatIsFree} THEN 'free' ELSE 'held' END
           AS state,
         s.section_key, s.section_name, s.row_label, s.seat_label, pc.name AS category
  FROM seats s JOIN concerts c ON c.id = s.concert_id
  LEFT JOIN seat_holds h ON h.seat_id = s.id AND h.concert_id = s.concert_id
  LEFT JOIN concert_price_categories pc ON pc.id = s.price_category_id
  WHERE ${where} ORDER BY s.seat_number`;

const toSeat = (row: SeatRow): SeatDto => ({
  seatId: row.id,
  seatNumber: row.seat_number,
  price: row.price,
  isAvailable: row.available,
  state: row.state,
  sectionKey: row.section_key,
  section: row.section_name,
  row: row.row_label,
  label: row.seat_label,
  priceCategory: row.category,
});

const concertExists = async (db: Database, concertId: number) =>
  (await queryOne(db, sql`SELECT 1 FROM concerts WHERE id = ${concertId}`)) !== undefined;

export function createPostgresConcertStore(database: Database): ConcertStore {
  const db = database;
  return {
    async list() {
      const rows = await query<{
        id: number;
        title: string;
        venue: string;
        show_datetime: Date;
        available: boolean;
      }>(
        db,
        // Per concert, its first free seat in seat order: a scalar subquery with LIMIT 1, walked
        // on the (concert_id, seat_number) index with each seat's hold probed by key, so a
        // concert mostly free stops at its first seats and only a nearly sold-out one reads far.
        // As EXISTS (… LEFT JOIN …) the planner hashed every seat of every concert against every
        // hold on each call: 21,450 seats with a 20,000-seat concert listed, 9.5 ms (0052).
        sql`SELECT c.id, c.title, c.venue, c.show_datetime,
              ${onSale} AND (
                SELECT true FROM seats s
                WHERE s.concert_id = c.id AND NOT EXISTS (
                  SELECT 1 FROM seat_holds h
                  WHERE h.seat_id = s.id AND (h.status = 'SOLD' OR h.expires_at > now()))
                ORDER BY s.seat_number LIMIT 1) IS NOT NULL AS available
            FROM concerts c ORDER BY c.show_datetime, c.id`,
        { prepared: true },
      );
      return rows.map((row) => ({
        concertId: row.id,
        concertTitle: row.title,
        concertVenue: row.venue,
        concertDateTime: row.show_datetime.toISOString(),
        isAvailable: row.available,
      }));
    },

    async seats(concertId) {
      // One query over the (concert_id, seat_number) index joined to holds by primary key.
      const rows = await query<SeatRow>(db, seatRows(sql`s.concert_id = ${concertId}`), {
        prepared: true,
      });
      if (rows.length === 0 && !(await concertExists(db, concertId))) return null;
      return rows.map(toSeat);
    },

    async sections(concertId) {
      // Counted from the concert's live holds and sales, not from its seats: free is the
      // section's capacity (its seat count) less those, so a 20,000-seat map costs what its
      // taken seats cost. The holds are found by their own concert_id and each one's section by
      // its seat's key (0052): joined through seats, the planner read every seat of the concert
      // (20,000 rows, 299 pages per call) to find 1,000 taken ones.
      const rows = await query<{
        key: string;
        name: string;
        kind: SectionDto['kind'];
        category: string;
        price: number;
        capacity: number;
        free: number;
        held: number;
        sold: number;
      }>(
        db,
        sql`SELECT cs.key, cs.name, cs.kind, pc.name AS category, pc.price, cs.capacity,
              cs.capacity - coalesce(t.held, 0) - coalesce(t.sold, 0) AS free,
              coalesce(t.held, 0) AS held, coalesce(t.sold, 0) AS sold
            FROM concert_sections cs
            JOIN concert_price_categories pc ON pc.id = cs.price_category_id
            LEFT JOIN (
              SELECT h.section_key,
                  count(*) FILTER (WHERE h.status = 'HELD') AS held,
                  count(*) FILTER (WHERE h.status = 'SOLD') AS sold
                FROM (
                  SELECT h.status, (SELECT s.section_key FROM seats s WHERE s.id = h.seat_id) AS section_key
                  FROM seat_holds h
                  WHERE h.concert_id = ${concertId} AND (h.status = 'SOLD' OR h.expires_at > now())) h
                GROUP BY h.section_key) t ON t.section_key = cs.key
            WHERE cs.concert_id = ${concertId}
            ORDER BY cs.position`,
        { prepared: true },
      );
      if (rows.length === 0 && !(await concertExists(db, concertId))) return null;
      return rows.map((row) => ({
        sectionKey: row.key,
        name: row.name,
        kind: row.kind,
        priceCategory: row.category,
        price: row.price,
        capacity: row.capacity,
        free: row.free,
        held: row.held,
        sold: row.sold,
      }));
    },

    async sectionSeats(concertId, sectionKey) {
      const rows = await query<SeatRow>(
        db,
        seatRows(sql`s.concert_id = ${concertId} AND s.section_key = ${sectionKey}`),
        { prepared: true },
      );
      if (rows.length > 0) return rows.map(toSeat);
      return (await concertExists(db, concertId)) ? 'section-not-found' : 'concert-not-found';
    },

    async summaries(ids) {
      if (ids.length === 0) return [];
      const rows = await query<{ id: number; title: string; venue: string; show_datetime: Date }>(
        db,
        sql`SELECT id, title, venue, show_datetime FROM concerts
            WHERE id IN (SELECT value::bigint FROM jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`,
        { prepared: true },
      );
      return rows.map((row) => ({
        concertId: row.id,
        concertTitle: row.title,
        concertVenue: row.venue,
        concertDateTime: row.show_datetime.toISOString(),
      }));
    },

    async popular(limit) {
      const rows = await query<{
        id: number;
        title: string;
        venue: string;
        show_datetime: Date;
        confirmed_count: number;
      }>(
        db,
        sql`SELECT c.id, c.title, c.venue, c.show_datetime, r.confirmed_count
            FROM concert_ranking r JOIN concerts c ON c.id = r.concert_id
            ORDER BY r.confirmed_count DESC, r.concert_id LIMIT ${limit}`,
        { prepared: true },
      );
      return rows.map((row) => ({
        concertId: row.id,
        concertTitle: row.title,
        concertVenue: row.venue,
        concertDateTime: row.show_datetime.toISOString(),
        reservedCount: row.confirmed_count,
      }));
    },
  };
}

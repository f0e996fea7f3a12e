import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { query, queryOne } from '../../db/sql.js';
import type { ConcertStore } from './concerts.store.js';

/** A seat is free when nobody holds it (or the hold expired) and it is not sold. */
const seatIsFree = sql`(h.seat_id IS NULL OR (h.status = 'HELD' AND h.expires_at <= now()))`;

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
        sql`SELECT c.id, c.title, c.venue, c.show_datetime,
              c.show_datetime > now() AND c.cancelled_at IS NULL AND EXISTS (
                SELECT 1 FROM seats s LEFT JOIN seat_holds h ON h.seat_id = s.id
                WHERE s.concert_id = c.id AND ${seatIsFree}) AS available
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
      const rows = await query<{
        id: number;
        seat_number: number;
        price: number;
        available: boolean;
      }>(
        db,
        sql`SELECT s.id, s.seat_number, s.price,
              c.show_datetime > now() AND c.cancelled_at IS NULL AND ${seatIsFree} AS available
            FROM seats s JOIN concerts c ON c.id = s.concert_id LEFT JOIN seat_holds h ON h.seat_id = s.id
            WHERE s.concert_id = ${concertId} ORDER BY s.seat_number`,
        { prepared: true },
      );
      if (rows.length === 0) {
        const concert = await queryOne(db, sql`SELECT 1 FROM concerts WHERE id = ${concertId}`);
        if (!concert) return null;
      }
      return rows.map((row) => ({
        seatId: row.id,
        seatNumber: row.seat_number,
        price: row.price,
        isAvailable: row.available,
      }));
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

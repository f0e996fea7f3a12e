import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { query } from '../../db/sql.js';
import type { ListedConcert, SaleStatus } from './rooms.listing.js';
import type { RoomState } from './rooms.store.js';

interface ListedRow {
  id: number;
  title: string;
  venue: string;
  show_datetime: Date;
  price_min: number | null;
  price_max: number | null;
  seats: number;
  sold: number;
  sale: SaleStatus;
  opens_at: Date | null;
  pre_queue_opens_at: Date | null;
  has_room: boolean;
  room_state: RoomState | null;
}

/**
 * The concerts whose show is ahead, not cancelled, whose sale has not closed, first by show time,
 * with their room and seats counted: one statement. Per concert it counts its seats (the
 * (concert_id, …) seat index) and its sold holds (the seat_holds concert index): a large concert's
 * seats dominate (about 12 ms for 22 concerts, one of 20,000 seats: decision 0064), which the
 * listing's cache pays once per instance per period.
 */
export function createPostgresSaleList(db: Database) {
  return async (limit: number): Promise<ListedConcert[]> => {
    const rows = await query<ListedRow>(
      db,
      sql`SELECT c.id, c.title, c.venue, c.show_datetime, s.price_min, s.price_max, s.seats, s.sold,
            CASE WHEN s.seats > 0 AND s.sold >= s.seats THEN 'sold-out'
                 WHEN c.sale_opens_at > now() THEN 'opening-soon'
                 WHEN r.opens_at > now() AND r.opened_at IS NULL THEN 'opening-soon'
                 ELSE 'on-sale' END AS sale,
            CASE WHEN r.opens_at > now() AND r.opened_at IS NULL
                   THEN greatest(r.opens_at, c.sale_opens_at)
                 WHEN c.sale_opens_at > now() THEN c.sale_opens_at END AS opens_at,
            CASE WHEN r.opens_at > now() AND r.opened_at IS NULL AND r.pre_queue_opens_at > now()
                   THEN r.pre_queue_opens_at END AS pre_queue_opens_at,
            r.concert_id IS NOT NULL AS has_room, r.state AS room_state
          FROM concerts c
          LEFT JOIN rooms r ON r.concert_id = c.id
          CROSS JOIN LATERAL (
            SELECT min(price) AS price_min, max(price) AS price_max, count(*)::int AS seats,
              (SELECT count(*) FROM seat_holds h
                WHERE h.concert_id = c.id AND h.status = 'SOLD')::int AS sold
            FROM seats WHERE concert_id = c.id) s
          WHERE c.show_datetime > now() AND c.cancelled_at IS NULL
            AND coalesce(c.sale_closes_at > now(), true)
          ORDER BY c.show_datetime, c.id LIMIT ${limit}`,
      { prepared: true },
    );
    return rows.map((row) => ({
      concertId: row.id,
      concertTitle: row.title,
      concertVenue: row.venue,
      concertDateTime: row.show_datetime.toISOString(),
      priceMin: row.price_min,
      priceMax: row.price_max,
      sale: row.sale,
      opensAt: row.opens_at?.toISOString() ?? null,
      preQueueOpensAt: row.pre_queue_opens_at?.toISOString() ?? null,
      hasRoom: row.has_room,
      roomState: row.room_state,
      seatsLeft: Math.max(0, row.seats - row.sold),
      soldOut: row.sale === 'sold-out',
    }));
  };
}

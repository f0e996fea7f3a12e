import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { query, queryOne } from '../../db/sql.js';
import type { CatalogueRefusal, SeatPlan } from './catalogue.store.js';

/** The seats of a concert on a venue: its categories, its sections and the seats themselves. */

export type Refuse = (refusal: CatalogueRefusal) => never;

/**
 * The concert's categories and sections from the plan, checked against the venue's map as it is
 * now: a section renamed, added or removed since the plan was checked refuses the change.
 */
export async function writeCategories(
  tx: Executor,
  concertId: number,
  plan: SeatPlan,
  refuse: Refuse,
): Promise<void> {
  const categories = plan.categories.map((category, position) => ({ position, ...category }));
  await query(
    tx,
    sql`INSERT INTO concert_price_categories (concert_id, position, name, price)
        SELECT ${concertId}, x.position, x.name, x.price
        FROM jsonb_to_recordset(${JSON.stringify(categories)}::jsonb) AS x(position int, name text, price bigint)`,
  );
  const written = await queryOne<{ sections: number; venue_sections: number }>(
    tx,
    sql`WITH section AS (
          INSERT INTO concert_sections (concert_id, position, key, name, kind, capacity, price_category_id)
          SELECT ${concertId}, vs.position, x.key, vs.name, vs.kind, vs.capacity, pc.id
          FROM venue_sections vs
          JOIN jsonb_to_recordset(${JSON.stringify(plan.sections)}::jsonb) AS x(name text, key text, category int)
            ON x.name = vs.name
          JOIN concert_price_categories pc ON pc.concert_id = ${concertId} AND pc.position = x.category
          WHERE vs.venue_id = ${plan.venueId}
          RETURNING 1)
        SELECT (SELECT count(*) FROM section) AS sections,
               (SELECT count(*) FROM venue_sections WHERE venue_id = ${plan.venueId}) AS venue_sections`,
  );
  if (written?.sections !== plan.sections.length || written.venue_sections !== plan.sections.length)
    refuse({ reason: 'venue-changed' });
}

/**
 * Generates the concert's seats from its sections in ONE statement: seat_number is the place in
 * map order (sections, then seats in a section) from 1; the section, row and label are copied; a
 * general-admission section gives numbered places "GA-1" … "GA-<capacity>".
 */
export async function generateSeats(
  tx: Executor,
  concertId: number,
  venueId: number,
): Promise<void> {
  await query(
    tx,
    sql`INSERT INTO seats (concert_id, seat_number, price, section_key, section_name, row_label, seat_label, price_category_id)
        SELECT ${concertId}, row_number() OVER (ORDER BY cs.position, p.position), pc.price,
               cs.key, cs.name, p.row_name, p.label, pc.id
        FROM concert_sections cs
        JOIN venue_sections vs ON vs.venue_id = ${venueId} AND vs.position = cs.position
        JOIN concert_price_categories pc ON pc.id = cs.price_category_id
        CROSS JOIN LATERAL (
          SELECT e.position, e.row_name, e.label FROM venue_seats e WHERE e.section_id = vs.id
          UNION ALL
          SELECT g, NULL, 'GA-' || g FROM generate_series(1, vs.capacity) g WHERE vs.kind = 'general-admission'
        ) p
        WHERE cs.concert_id = ${concertId}`,
  );
}

/**
 * Refuses when a seat of the concert is held (live) or sold. Payments do not take the sale lock:
 * a payment in flight on a hold that expired by this transaction's clock holds that hold's row,
 * so those rows are locked first — the payment commits (SOLD, seen below) or fails first.
 */
export async function refuseIfSold(tx: Executor, concertId: number, refuse: Refuse): Promise<void> {
  await query(
    tx,
    sql`SELECT 1 FROM seat_holds h JOIN seats s ON s.id = h.seat_id
        WHERE s.concert_id = ${concertId} AND h.status = 'HELD' AND h.expires_at <= now()
        FOR UPDATE OF h`,
  );
  const sales = await queryOne<{ sold: boolean }>(
    tx,
    sql`SELECT EXISTS (SELECT 1 FROM seat_holds h JOIN seats s ON s.id = h.seat_id
                       WHERE s.concert_id = ${concertId} AND (h.status = 'SOLD' OR h.expires_at > now()))
            OR EXISTS (SELECT 1 FROM reservations WHERE concert_id = ${concertId}) AS sold`,
  );
  if (sales?.sold) refuse({ reason: 'has-sales' });
}

/** Removes the concert's seats (the expired holds on them first), sections and categories. */
export async function clearSeats(tx: Executor, concertId: number): Promise<void> {
  await query(
    tx,
    sql`DELETE FROM seat_holds h USING seats s WHERE s.id = h.seat_id AND s.concert_id = ${concertId}`,
  );
  await query(tx, sql`DELETE FROM seats WHERE concert_id = ${concertId}`);
  await query(tx, sql`DELETE FROM concert_sections WHERE concert_id = ${concertId}`);
  await query(tx, sql`DELETE FROM concert_price_categories WHERE concert_id = ${concertId}`);
}

/** New categories and mapping on the same venue: the seats keep their ids and get new prices. */
export async function reprice(
  tx: Executor,
  concertId: number,
  plan: SeatPlan,
  refuse: Refuse,
): Promise<void> {
  await query(tx, sql`UPDATE seats SET price_category_id = NULL WHERE concert_id = ${concertId}`);
  await query(tx, sql`DELETE FROM concert_sections WHERE concert_id = ${concertId}`);
  await query(tx, sql`DELETE FROM concert_price_categories WHERE concert_id = ${concertId}`);
  await writeCategories(tx, concertId, plan, refuse);
  await query(
    tx,
    sql`UPDATE seats s SET price = pc.price, price_category_id = pc.id
        FROM concert_sections cs JOIN concert_price_categories pc ON pc.id = cs.price_category_id
        WHERE cs.concert_id = ${concertId} AND s.concert_id = ${concertId} AND s.section_key = cs.key`,
  );
}

/**
 * Refuses any change to a cancelled show. Locks the concert row, so a cancellation committing
 * meanwhile is either seen here or waits for this change.
 */
export async function refuseIfCancelled(
  tx: Executor,
  concertId: number,
  refuse: Refuse,
): Promise<void> {
  const concert = await queryOne<{ cancelled: boolean }>(
    tx,
    sql`SELECT cancelled_at IS NOT NULL AS cancelled FROM concerts WHERE id = ${concertId} FOR UPDATE`,
  );
  if (concert?.cancelled) refuse({ reason: 'cancelled' });
}

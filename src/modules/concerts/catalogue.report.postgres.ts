import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { query, queryOne, transaction } from '../../db/sql.js';
import type { CatalogueReports, ReportLine } from './catalogue.store.js';

interface LineRow {
  section_key: string | null;
  section_name: string | null;
  category: string | null;
  price: number | null;
  capacity: number;
  held: number;
  sold: number;
}

interface MoneyRow {
  revenue: number;
  refunds: number;
  reservations: number;
  cancelled: number;
  buyers: number;
}

/**
 * The sales report (issue 14 item 9): three reads in one REPEATABLE READ snapshot, so seats and
 * money describe the same moment. Money is summed from the ledger rows of the concert's
 * reservations, so it matches the ledger by construction.
 */
export function createPostgresCatalogueReports(database: Database): CatalogueReports {
  return {
    report: (concertId) =>
      transaction(database, async (tx) => {
        await query(tx, sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY`);
        const concert = await queryOne<{
          id: number;
          title: string;
          show_datetime: Date;
          cancelled_at: Date | null;
        }>(
          tx,
          sql`SELECT id, title, show_datetime, cancelled_at FROM concerts WHERE id = ${concertId}`,
        );
        if (!concert) return null;
        // Seats per section × category: held = a live HELD row (the transaction's clock), sold = SOLD.
        const lines = await query<LineRow>(
          tx,
          sql`SELECT s.section_key, s.section_name, pc.name AS category, pc.price,
                     count(*)::int AS capacity,
                     (count(*) FILTER (WHERE h.status = 'HELD' AND h.expires_at > now()))::int AS held,
                     (count(*) FILTER (WHERE h.status = 'SOLD'))::int AS sold
              FROM seats s
              LEFT JOIN seat_holds h ON h.seat_id = s.id
              LEFT JOIN concert_price_categories pc ON pc.id = s.price_category_id
              WHERE s.concert_id = ${concertId}
              GROUP BY s.section_key, s.section_name, pc.name, pc.price, pc.position
              ORDER BY min(s.seat_number), pc.position`,
        );
        // Money from the ledger: USE = gross sales, REFUND = what went back; counts from reservations.
        const money = await queryOne<MoneyRow>(
          tx,
          sql`SELECT
                coalesce((SELECT sum(t.amount) FROM point_transactions t JOIN reservations r ON r.id = t.reservation_id
                          WHERE r.concert_id = ${concertId} AND t.type = 'USE'), 0)::bigint AS revenue,
                coalesce((SELECT sum(t.amount) FROM point_transactions t JOIN reservations r ON r.id = t.reservation_id
                          WHERE r.concert_id = ${concertId} AND t.type = 'REFUND'), 0)::bigint AS refunds,
                (count(*) FILTER (WHERE r.cancelled_at IS NULL))::int AS reservations,
                (count(*) FILTER (WHERE r.cancelled_at IS NOT NULL))::int AS cancelled,
                (count(DISTINCT r.user_id) FILTER (WHERE r.cancelled_at IS NULL))::int AS buyers
              FROM reservations r WHERE r.concert_id = ${concertId}`,
        );
        const sections: ReportLine[] = lines.map((row) => ({
          sectionKey: row.section_key,
          sectionName: row.section_name,
          category: row.category,
          price: row.price,
          capacity: row.capacity,
          free: row.capacity - row.held - row.sold,
          held: row.held,
          sold: row.sold,
        }));
        const sum = (pick: (line: ReportLine) => number) =>
          sections.reduce((total, line) => total + pick(line), 0);
        const revenue = money?.revenue ?? 0;
        const refunds = money?.refunds ?? 0;
        return {
          concertId: concert.id,
          title: concert.title,
          showAt: new Date(concert.show_datetime).toISOString(),
          cancelled: concert.cancelled_at !== null,
          sections,
          totals: {
            seats: sum((line) => line.capacity),
            free: sum((line) => line.free),
            held: sum((line) => line.held),
            sold: sum((line) => line.sold),
            revenue,
            refunds,
            net: revenue - refunds,
            reservations: money?.reservations ?? 0,
            cancelled: money?.cancelled ?? 0,
            buyers: money?.buyers ?? 0,
          },
        };
      }),
  };
}

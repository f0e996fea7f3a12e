import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { concertSaleLock } from '../db/locks.js';
import { query, queryOne, transaction } from '../db/sql.js';

/**
 * Sells every seat of a new concert, one seat per demo buyer (buyer ids from `firstBuyer`, in seat
 * order), the way a payment does (the reservations store's settle statement): the debit only if
 * the balance covers the price, a reservation, a USE ledger row with the balance after, and the
 * seat's hold SOLD — all in one statement, so the buyers' ledgers still sum to their balances.
 * The buyers must already have been charged the price (through the balance service). No outbox
 * event: the demo's history is not a sale to report to the data platform or the ranking.
 * Returns how many seats were sold.
 */
export async function sellOut(
  database: Database,
  concertId: number,
  firstBuyer: number,
): Promise<number> {
  return transaction(database, async (tx) => {
    // Holds take this lock shared: no buyer's hold can slip in between the look and the sale.
    await queryOne(tx, sql`SELECT ${concertSaleLock(concertId, 'exclusive')}`);
    const row = await queryOne<{ sold: number }>(
      tx,
      sql`WITH sold AS (
            SELECT s.id, s.price, ${firstBuyer - 1} + row_number() OVER (ORDER BY s.seat_number) AS user_id
            FROM seats s
            WHERE s.concert_id = ${concertId}
              AND NOT EXISTS (SELECT 1 FROM seat_holds h WHERE h.seat_id = s.id)),
          debit AS (
            UPDATE users u SET balance = u.balance - sold.price, updated_at = now()
            FROM sold WHERE u.id = sold.user_id AND u.balance >= sold.price
            RETURNING u.id, u.balance),
          reservation AS (
            INSERT INTO reservations (reservation_uuid, user_id, concert_id, seat_id, price)
            SELECT gen_random_uuid(), sold.user_id, ${concertId}, sold.id, sold.price
            FROM sold JOIN debit ON debit.id = sold.user_id
            RETURNING id, user_id, seat_id, price),
          ledger AS (
            INSERT INTO point_transactions (user_id, type, amount, balance_after, reservation_id)
            SELECT r.user_id, 'USE', r.price, debit.balance, r.id
            FROM reservation r JOIN debit ON debit.id = r.user_id),
          held AS (
            INSERT INTO seat_holds (seat_id, user_id, hold_uuid, status, expires_at)
            SELECT r.seat_id, r.user_id, gen_random_uuid(), 'SOLD', now() FROM reservation r)
          SELECT count(*)::int AS sold FROM reservation`,
    );
    return row?.sold ?? 0;
  });
}

/** The concert's seat prices in seat order: what each demo buyer is charged before the sale. */
export async function seatPrices(database: Database, concertId: number): Promise<number[]> {
  const rows = await query<{ price: number }>(
    database,
    sql`SELECT price FROM seats WHERE concert_id = ${concertId} ORDER BY seat_number`,
  );
  return rows.map((row) => row.price);
}

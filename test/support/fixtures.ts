import type pg from 'pg';

export interface ConcertFixture {
  concertId: number;
  seatIds: number[];
}

/** A concert of our own (tomorrow unless said otherwise) with `seats` seats at `price`. */
export async function createConcert(
  pool: pg.Pool,
  options: { seats?: number; price?: number; title?: string; startsInHours?: number } = {},
): Promise<ConcertFixture> {
  const { seats = 50, price = 10_000, title = 'Fixture concert', startsInHours = 24 } = options;
  const concert = await pool.query<{ id: string }>(
    `INSERT INTO concerts (title, venue, show_datetime) VALUES ($1, 'Fixture Hall', now() + make_interval(hours => $2)) RETURNING id`,
    [title, startsInHours],
  );
  const concertId = Number(concert.rows[0]?.id);
  const seatRows = await pool.query<{ id: string }>(
    `INSERT INTO seats (concert_id, seat_number, price)
     SELECT $1, n, $2 FROM generate_series(1, $3) AS n RETURNING id`,
    [concertId, price, seats],
  );
  return { concertId, seatIds: seatRows.rows.map((row) => Number(row.id)).sort((a, b) => a - b) };
}

/**
 * Moves the clock forward by `seconds` for everything time-bound (tokens and holds) by moving
 * their stored times into the past — the service reads time only from the database's now().
 */
export async function travel(pool: pg.Pool, seconds: number): Promise<void> {
  const shift = `${seconds} seconds`;
  await pool.query(
    `UPDATE queue_tokens SET entered_at = entered_at - $1::interval, activated_at = activated_at - $1::interval,
       active_until = active_until - $1::interval, expires_at = expires_at - $1::interval,
       last_seen_at = last_seen_at - $1::interval`,
    [shift],
  );
  await pool.query(
    `UPDATE seat_holds SET expires_at = expires_at - $1::interval, created_at = created_at - $1::interval WHERE status = 'HELD'`,
    [shift],
  );
}

export async function setBalance(pool: pg.Pool, userId: number, amount: number): Promise<void> {
  // Through the ledger, like a charge: the invariant "ledger sum = balance" stays true.
  await pool.query(
    `WITH account AS (
       INSERT INTO users (id, balance) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET balance = users.balance + $2 RETURNING id, balance)
     INSERT INTO point_transactions (user_id, type, amount, balance_after) SELECT id, 'CHARGE', $2, balance FROM account`,
    [userId, amount],
  );
}

/**
 * Every seat of the concert paid for by a user of its own (ids from `firstUserId`), written
 * straight into the database as a payment leaves it: the user charged the price and spent it
 * (CHARGE and USE ledger rows, balance 0), the reservation, the seat's SOLD hold. Returns how
 * many; for tests that need thousands of reservations without thousands of payments.
 */
export async function paidReservations(
  pool: pg.Pool,
  concertId: number,
  firstUserId: number,
): Promise<number> {
  const result = await pool.query<{ n: number }>(
    `WITH s AS (SELECT id, price, $2::bigint + row_number() OVER (ORDER BY id) AS user_id
                FROM seats WHERE concert_id = $1),
       u AS (INSERT INTO users (id, balance) SELECT user_id, 0 FROM s),
       c AS (INSERT INTO point_transactions (user_id, type, amount, balance_after)
             SELECT user_id, 'CHARGE', price, price FROM s),
       r AS (INSERT INTO reservations (reservation_uuid, user_id, concert_id, seat_id, price)
             SELECT gen_random_uuid(), user_id, $1, id, price FROM s
             RETURNING id, user_id, seat_id, price),
       used AS (INSERT INTO point_transactions (user_id, type, amount, balance_after, reservation_id)
                SELECT user_id, 'USE', price, 0, id FROM r),
       h AS (INSERT INTO seat_holds (seat_id, user_id, hold_uuid, status, expires_at, created_at)
             SELECT seat_id, user_id, gen_random_uuid(), 'SOLD', now(), now() FROM r)
     SELECT count(*)::int AS n FROM r`,
    [concertId, firstUserId - 1],
  );
  return result.rows[0]?.n ?? 0;
}

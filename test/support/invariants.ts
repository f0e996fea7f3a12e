/** pg.Pool and PGlite both answer `query(text, params)` with `{ rows }`. */
export interface SqlRunner {
  query: (text: string, params?: unknown[]) => Promise<{ rows: unknown[] }>;
}

/**
 * The invariants that must hold after any traffic, read straight from the database. Returns a
 * list of violations (empty when all hold), so a failing test prints what broke.
 */
export async function invariantViolations(
  runner: SqlRunner,
  options: {
    /** Checks that at most this many tokens are ACTIVE. */
    maxActive?: number;
    /**
     * Where the ACTIVE tokens are counted: the server's waiting room (server.queue), on whichever
     * backend it runs. Without it they are counted in the database's queue_tokens, which is empty
     * on the Redis backend: give it whenever the server may run on Redis.
     */
    queue?: { activeCount(): Promise<number> };
  } = {},
): Promise<string[]> {
  const pool = {
    // The row type names what each query selects; the runner itself is untyped.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
    query: async <T>(text: string, params?: unknown[]) => ({
      rows: (await runner.query(text, params)).rows as T[],
    }),
  };
  const violations: string[] = [];
  const ledger = await pool.query<{ id: string; balance: string; ledger: string }>(
    `SELECT u.id, u.balance, coalesce(sum(CASE p.type WHEN 'USE' THEN -p.amount ELSE p.amount END), 0) AS ledger
     FROM users u LEFT JOIN point_transactions p ON p.user_id = u.id
     GROUP BY u.id HAVING u.balance <> coalesce(sum(CASE p.type WHEN 'USE' THEN -p.amount ELSE p.amount END), 0)`,
  );
  for (const row of ledger.rows)
    violations.push(`user ${row.id}: balance ${row.balance} but ledger sums to ${row.ledger}`);

  const negative = await pool.query<{ id: string }>(`SELECT id FROM users WHERE balance < 0`);
  for (const row of negative.rows) violations.push(`user ${row.id}: negative balance`);

  const oversold = await pool.query<{ seat_id: string; n: string }>(
    `SELECT seat_id, count(*) AS n FROM reservations WHERE cancelled_at IS NULL GROUP BY seat_id HAVING count(*) > 1`,
  );
  for (const row of oversold.rows) violations.push(`seat ${row.seat_id} sold ${row.n} times`);

  // Each cancellation refunded once, exactly its refund amount (none when that is 0); no refund
  // of a live reservation.
  const refunds = await pool.query<{ id: string; refunds: string; amount: string | null }>(
    `SELECT r.id, count(p.id) AS refunds, sum(p.amount) AS amount FROM reservations r
     LEFT JOIN point_transactions p ON p.reservation_id = r.id AND p.type = 'REFUND'
     GROUP BY r.id, r.cancelled_at, r.refund_amount
     HAVING count(p.id) <> CASE WHEN r.cancelled_at IS NOT NULL AND r.refund_amount > 0 THEN 1 ELSE 0 END
        OR coalesce(sum(p.amount), 0) <> coalesce(r.refund_amount, 0)`,
  );
  for (const row of refunds.rows)
    violations.push(`reservation ${row.id}: ${row.refunds} refunds totalling ${row.amount}`);

  const charges = await pool.query<{
    id: string;
    uses: string;
    amount: string | null;
    price: string;
  }>(
    `SELECT r.id, count(p.id) AS uses, sum(p.amount) AS amount, r.price FROM reservations r
     LEFT JOIN point_transactions p ON p.reservation_id = r.id AND p.type = 'USE'
     GROUP BY r.id HAVING count(p.id) <> 1 OR sum(p.amount) <> r.price`,
  );
  for (const row of charges.rows)
    violations.push(
      `reservation ${row.id}: ${row.uses} charges totalling ${row.amount}, price ${row.price}`,
    );

  const orphanUses = await pool.query<{ id: string }>(
    `SELECT p.id FROM point_transactions p WHERE p.type = 'USE'
     AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.id = p.reservation_id)`,
  );
  for (const row of orphanUses.rows) violations.push(`ledger USE row ${row.id} has no reservation`);

  const priceMismatch = await pool.query<{ id: string }>(
    `SELECT r.id FROM reservations r JOIN seats s ON s.id = r.seat_id WHERE r.price <> s.price OR r.concert_id <> s.concert_id`,
  );
  for (const row of priceMismatch.rows)
    violations.push(`reservation ${row.id} does not match its seat`);

  const soldMismatch = await pool.query<{ seat_id: string }>(
    `SELECT h.seat_id FROM seat_holds h FULL JOIN (SELECT * FROM reservations WHERE cancelled_at IS NULL) r
       ON r.seat_id = h.seat_id AND h.status = 'SOLD'
     WHERE (h.status = 'SOLD' AND r.id IS NULL) OR (r.id IS NOT NULL AND (h.seat_id IS NULL OR h.user_id <> r.user_id))`,
  );
  for (const row of soldMismatch.rows)
    violations.push(`seat ${row.seat_id ?? '?'}: sold hold and reservation disagree`);

  // A hold's concert is its seat's (0052): the summary and the ticket limit count by it.
  const wrongConcert = await pool.query<{ seat_id: string }>(
    `SELECT h.seat_id FROM seat_holds h JOIN seats s ON s.id = h.seat_id WHERE h.concert_id <> s.concert_id`,
  );
  for (const row of wrongConcert.rows)
    violations.push(`seat ${row.seat_id}: its hold names another concert`);

  // The ticket limit per buyer (0041): held seats at limit 1, held and sold above.
  const overLimit = await pool.query<{ user_id: string; concert_id: string; n: string }>(
    `SELECT h.user_id, s.concert_id, count(*) AS n FROM seat_holds h
       JOIN seats s ON s.id = h.seat_id JOIN concerts c ON c.id = s.concert_id
     WHERE h.status = 'HELD' OR c.ticket_limit > 1
     GROUP BY h.user_id, s.concert_id, c.ticket_limit HAVING count(*) > c.ticket_limit`,
  );
  for (const row of overLimit.rows)
    violations.push(
      `user ${row.user_id} has ${row.n} seats of concert ${row.concert_id}, over its limit`,
    );

  if (options.maxActive !== undefined) {
    const count = options.queue
      ? await options.queue.activeCount()
      : ((
          await pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM queue_tokens WHERE status = 'ACTIVE'`,
          )
        ).rows[0]?.n ?? 0);
    if (count > options.maxActive)
      violations.push(`${count} ACTIVE tokens, limit ${options.maxActive}`);
  }
  return violations;
}

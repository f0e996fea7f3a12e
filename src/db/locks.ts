import { sql } from 'drizzle-orm';

/** Namespace of the per-concert sale locks (two-key advisory locks: namespace, hashed concert id). */
const CONCERT_SALE_LOCK = 7_284_114;

/**
 * The concert's sale lock, for the rest of the transaction. Holds take it shared (they never wait
 * for each other); an operator's change of the concert's seats, prices or sale window takes it
 * exclusively, so it waits for the holds in flight and the holds after it see the change — the
 * database, not a read before the change, decides whether a seat was held (docs/decisions/0036).
 */
export const concertSaleLock = (concertId: number, mode: 'shared' | 'exclusive') =>
  mode === 'shared'
    ? sql`pg_advisory_xact_lock_shared(${CONCERT_SALE_LOCK}, hashtext(${String(concertId)}))`
    : sql`pg_advisory_xact_lock(${CONCERT_SALE_LOCK}, hashtext(${String(concertId)}))`;

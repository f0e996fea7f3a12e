import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { query } from '../../db/sql.js';
import { SPENT_MARGIN_MS, type PowSpent } from './queue.pow.js';

/**
 * Spent challenges in PostgreSQL (table pow_spent_nonces, purged by housekeeping): the insert
 * wins on the primary key, so of concurrent spends of one nonce on any instance exactly one gets
 * a row back — a second insert waits for the first to commit and then finds the key taken. A row
 * past its expiry no longer counts (same as a Redis key that expired before the purge).
 */
export function createPostgresPowSpent(
  database: Executor,
  options: { marginMs?: number } = {},
): PowSpent {
  const marginMs = options.marginMs ?? SPENT_MARGIN_MS;
  return {
    async spend(nonce, expiresAt) {
      const until = new Date(expiresAt.getTime() + marginMs);
      const rows = await query(
        database,
        sql`INSERT INTO pow_spent_nonces (nonce, expires_at) VALUES (${nonce}, ${until})
            ON CONFLICT (nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at
              WHERE pow_spent_nonces.expires_at <= now()
            RETURNING 1`,
        { prepared: true },
      );
      return rows.length === 1;
    },
  };
}

import { sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import { query } from '../db/sql.js';
import { createLoop, type Loop } from '../shared/loop.js';

const BATCH = 5_000;

/**
 * Purges what has served its purpose, in small batches so no statement holds locks for long:
 * EXPIRED queue tokens (a poll then answers "unknown token" instead of EXPIRED) and skipped
 * arrival numbers once the line has passed them, idempotency
 * keys (a replay after that is a new attempt), the fences of paid tokens, spent proof-of-work
 * challenges past their expiry, sent outbox events,
 * the consumers' inbox rows and the records of delivered events (a copy of an event older than
 * that is no longer recognised).
 * Deleting the same rows from two instances at once is harmless.
 */
export function createHousekeeping(
  database: Database,
  options: { retentionHours: number; intervalMs: number; logger: Logger },
): Loop {
  const cutoff = sql`now() - ${`${options.retentionHours} hours`}::interval`;
  // The lowest arrival still waiting in the room `room` (beyond every arrival when its line is
  // empty): arrival numbers are per room, so each row is compared with its own room's head.
  const headOf = (room: SQL) =>
    sql`coalesce((SELECT w.arrival FROM queue_tokens w WHERE w.status = 'WAITING' AND w.room_id = ${room}
          ORDER BY w.arrival LIMIT 1), 9223372036854775807)`;
  const purges: [string, SQL][] = [
    [
      'queue_tokens',
      // A token that left without being admitted still counts in the positions of those behind
      // it until the head of the line has passed its arrival.
      sql`SELECT ctid FROM queue_tokens t WHERE status = 'EXPIRED' AND expired_at < ${cutoff}
            AND (activated_at IS NOT NULL OR arrival IS NULL OR arrival < ${headOf(sql`t.room_id`)})
          LIMIT ${BATCH}`,
    ],
    [
      'queue_skipped_arrivals',
      sql`SELECT ctid FROM queue_skipped_arrivals k WHERE arrival < ${headOf(sql`k.room_id`)} LIMIT ${BATCH}`,
    ],
    [
      'idempotency_keys',
      sql`SELECT ctid FROM idempotency_keys WHERE created_at < ${cutoff} LIMIT ${BATCH}`,
    ],
    ['outbox', sql`SELECT ctid FROM outbox WHERE published_at < ${cutoff} LIMIT ${BATCH}`],
    // A fence outlives its token: RETENTION_HOURS is checked to exceed any token's lifetime.
    [
      'spent_queue_tokens',
      sql`SELECT ctid FROM spent_queue_tokens WHERE spent_at < ${cutoff} LIMIT ${BATCH}`,
    ],
    // Spent proof-of-work challenges: each row carries its own end (challenge expiry + margin).
    [
      'pow_spent_nonces',
      sql`SELECT ctid FROM pow_spent_nonces WHERE expires_at <= now() LIMIT ${BATCH}`,
    ],
    [
      'processed_events',
      sql`SELECT ctid FROM processed_events WHERE processed_at < ${cutoff} LIMIT ${BATCH}`,
    ],
    [
      'event_deliveries',
      sql`SELECT ctid FROM event_deliveries WHERE status = 'DELIVERED' AND updated_at < ${cutoff} LIMIT ${BATCH}`,
    ],
  ];
  return createLoop(
    'housekeeping',
    options.intervalMs,
    async (stopping) => {
      for (const [table, victims] of purges) {
        let purged = 0;
        while (!stopping.aborted) {
          const rows = await query(
            database,
            sql`DELETE FROM ${sql.identifier(table)} WHERE ctid IN (${victims}) RETURNING 1`,
          );
          purged += rows.length;
          if (rows.length < BATCH) break;
        }
        if (purged > 0) options.logger.info({ table, purged }, 'housekeeping purge');
      }
    },
    options.logger,
  );
}

import type { Database } from '../../db/client.js';
import { sql } from 'drizzle-orm';
import { query, queryOne } from '../../db/sql.js';
import {
  RESERVATION_CANCELLED,
  RESERVATION_CONFIRMED,
  type EventConsumer,
  type ReservationCancelled,
  type ReservationConfirmed,
} from '../events/events.js';
import type { RankEntry, RankingMirror } from './ranking.mirror.js';

/**
 * Counts live reservations per concert: +1 per confirmation, −1 per cancellation. The inbox row
 * and the change are one statement: a redelivered event finds its inbox row and changes nothing.
 * Both changes commute, so a cancellation retried before its confirmation still ends right. The
 * statement answers the concert's count either way, which a mirror (Redis) then copies — so a
 * redelivery also repairs a copy that failed the first time.
 */
export const createRankingConsumer = (
  database: Database,
  mirror?: Pick<RankingMirror, 'record' | 'lowered'>,
): EventConsumer => ({
  name: 'ranking',
  async handle(event) {
    if (event.type !== RESERVATION_CONFIRMED && event.type !== RESERVATION_CANCELLED) return;
    const { concertId } = event.payload as ReservationConfirmed | ReservationCancelled;
    if (!Number.isSafeInteger(concertId))
      throw new Error(`event ${event.eventId} has no concertId`);
    const change = event.type === RESERVATION_CONFIRMED ? 1 : -1;
    const row = await queryOne<{ count: number | null }>(
      database,
      sql`WITH inbox AS (
            INSERT INTO processed_events (consumer, event_id) VALUES ('ranking', ${event.eventId})
            ON CONFLICT DO NOTHING RETURNING 1),
          counted AS (
            INSERT INTO concert_ranking (concert_id, confirmed_count) SELECT ${concertId}, ${change}::bigint FROM inbox
            ON CONFLICT (concert_id) DO UPDATE
              SET confirmed_count = concert_ranking.confirmed_count + ${change}::bigint, updated_at = now()
            RETURNING confirmed_count)
          SELECT coalesce((SELECT confirmed_count FROM counted),
            (SELECT confirmed_count FROM concert_ranking WHERE concert_id = ${concertId})) AS count`,
    );
    if (!mirror || row?.count === null || row?.count === undefined) return;
    if (change > 0) await mirror.record({ concertId, count: row.count });
    else await mirror.lowered({ concertId, count: row.count });
  },
});

/** Every concert's count as PostgreSQL has it: what a lost Redis ranking is rebuilt from. */
export async function loadRanking(database: Database): Promise<RankEntry[]> {
  const rows = await query<{ concert_id: number; confirmed_count: number }>(
    database,
    sql`SELECT concert_id, confirmed_count FROM concert_ranking WHERE confirmed_count > 0`,
  );
  return rows.map((row) => ({
    concertId: row.concert_id,
    count: row.confirmed_count,
  }));
}

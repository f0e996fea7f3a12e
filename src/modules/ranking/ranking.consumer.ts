import type { Database } from '../../db/client.js';
import { sql } from 'drizzle-orm';
import { query, queryOne } from '../../db/sql.js';
import {
  RESERVATION_CONFIRMED,
  type EventConsumer,
  type ReservationConfirmed,
} from '../events/events.js';
import type { RankEntry, RankingMirror } from './ranking.mirror.js';

/**
 * Counts confirmed reservations per concert. The inbox row and the increment are one statement:
 * a redelivered event finds its inbox row and changes nothing. The statement answers the
 * concert's count either way, which a mirror (Redis) then copies — so a redelivery also repairs
 * a copy that failed the first time.
 */
export const createRankingConsumer = (
  database: Database,
  mirror?: Pick<RankingMirror, 'record'>,
): EventConsumer => ({
  name: 'ranking',
  async handle(event) {
    if (event.type !== RESERVATION_CONFIRMED) return;
    const { concertId } = event.payload as ReservationConfirmed;
    if (!Number.isSafeInteger(concertId))
      throw new Error(`event ${event.eventId} has no concertId`);
    const row = await queryOne<{ count: number | null }>(
      database,
      sql`WITH inbox AS (
            INSERT INTO processed_events (consumer, event_id) VALUES ('ranking', ${event.eventId})
            ON CONFLICT DO NOTHING RETURNING 1),
          counted AS (
            INSERT INTO concert_ranking (concert_id, confirmed_count) SELECT ${concertId}, 1 FROM inbox
            ON CONFLICT (concert_id) DO UPDATE
              SET confirmed_count = concert_ranking.confirmed_count + 1, updated_at = now()
            RETURNING confirmed_count)
          SELECT coalesce((SELECT confirmed_count FROM counted),
            (SELECT confirmed_count FROM concert_ranking WHERE concert_id = ${concertId})) AS count`,
    );
    if (mirror && row?.count !== null && row?.count !== undefined)
      await mirror.record({ concertId, count: row.count });
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

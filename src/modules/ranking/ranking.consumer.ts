import type { Database } from '../../db/client.js';
import { sql } from 'drizzle-orm';
import {
  RESERVATION_CONFIRMED,
  type EventConsumer,
  type ReservationConfirmed,
} from '../events/events.js';

/**
 * Counts confirmed reservations per concert. The inbox row and the increment are one statement:
 * a redelivered event finds its inbox row and changes nothing.
 */
export const createRankingConsumer = (database: Database): EventConsumer => ({
  name: 'ranking',
  async handle(event) {
    if (event.type !== RESERVATION_CONFIRMED) return;
    const { concertId } = event.payload as ReservationConfirmed;
    if (!Number.isSafeInteger(concertId))
      throw new Error(`event ${event.eventId} has no concertId`);
    await database.orm.execute(
      sql`WITH inbox AS (
            INSERT INTO processed_events (consumer, event_id) VALUES ('ranking', ${event.eventId})
            ON CONFLICT DO NOTHING RETURNING 1)
          INSERT INTO concert_ranking (concert_id, confirmed_count) SELECT ${concertId}, 1 FROM inbox
          ON CONFLICT (concert_id) DO UPDATE
            SET confirmed_count = concert_ranking.confirmed_count + 1, updated_at = now()`,
    );
  },
});

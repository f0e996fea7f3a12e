import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { query } from '../../db/sql.js';
import { RATE_BUCKETS, steadyRates } from './queue.estimate.js';

/**
 * The steady admission rate of each room in `roomIds` (queue.estimate.ts): one statement counts
 * each room's admissions of the last `windowSeconds` per bucket — tokens admitted in the window
 * and still ACTIVE (the room's ACTIVE index), or EXPIRED since (the expired-at index).
 */
export async function roomRates(
  db: Database,
  roomIds: readonly number[],
  windowSeconds: number,
): Promise<Map<number, number>> {
  const window = `${windowSeconds} seconds`;
  const bucketSeconds = windowSeconds / RATE_BUCKETS;
  const rows = await query<{ room_id: number; bucket: number; admitted: number }>(
    db,
    sql`WITH wanted AS (SELECT value::int AS room_id FROM jsonb_array_elements_text(${JSON.stringify(roomIds)}::jsonb)),
          admitted AS (
            SELECT room_id, activated_at FROM queue_tokens
            WHERE status = 'ACTIVE' AND room_id IN (SELECT room_id FROM wanted)
              AND activated_at > statement_timestamp() - ${window}::interval
            UNION ALL
            SELECT room_id, activated_at FROM queue_tokens
            WHERE status = 'EXPIRED' AND expired_at > statement_timestamp() - ${window}::interval
              AND activated_at > statement_timestamp() - ${window}::interval
              AND room_id IN (SELECT room_id FROM wanted))
        SELECT room_id, least(${RATE_BUCKETS - 1},
            floor(extract(epoch FROM statement_timestamp() - activated_at) / ${bucketSeconds}))::int AS bucket,
          count(*)::int AS admitted
        FROM admitted GROUP BY 1, 2`,
    { prepared: true },
  );
  const buckets = new Map<number, number[]>(
    roomIds.map((roomId) => [roomId, new Array<number>(RATE_BUCKETS).fill(0)]),
  );
  for (const row of rows) {
    const counts = buckets.get(row.room_id);
    if (counts && row.bucket >= 0) counts[row.bucket] = (counts[row.bucket] ?? 0) + row.admitted;
  }
  return steadyRates(buckets, windowSeconds);
}

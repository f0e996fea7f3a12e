import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { query } from '../../db/sql.js';
import { RATE_BUCKETS, steadyRates, type AdmissionWindow } from './queue.estimate.js';

/**
 * The steady admission rate of each room in `roomIds` (queue.estimate.ts): one statement counts
 * each room's admissions of the last `windowSeconds` per bucket — tokens admitted in the window
 * and still ACTIVE (the room's ACTIVE index), or EXPIRED since (the expired-at index) — with the
 * age of the window's oldest admission run and its count (a run stamps its tokens with one
 * statement_timestamp()).
 */
export async function roomRates(
  db: Database,
  roomIds: readonly number[],
  windowSeconds: number,
): Promise<Map<number, number>> {
  const window = `${windowSeconds} seconds`;
  const bucketSeconds = windowSeconds / RATE_BUCKETS;
  const rows = await query<{
    room_id: number;
    bucket: number;
    admitted: number;
    oldest_age: number;
    oldest_count: number;
  }>(
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
              AND room_id IN (SELECT room_id FROM wanted)),
          oldest AS (SELECT room_id, min(activated_at) AS at FROM admitted GROUP BY room_id)
        SELECT a.room_id, least(${RATE_BUCKETS - 1},
            floor(extract(epoch FROM statement_timestamp() - a.activated_at) / ${bucketSeconds}))::int AS bucket,
          count(*)::int AS admitted,
          extract(epoch FROM statement_timestamp() - o.at)::float8 AS oldest_age,
          (count(*) FILTER (WHERE a.activated_at = o.at))::int AS oldest_count
        FROM admitted a JOIN oldest o ON o.room_id = a.room_id GROUP BY 1, 2, o.at`,
    { prepared: true },
  );
  const windows = new Map<number, AdmissionWindow & { counts: number[] }>(
    roomIds.map((roomId) => [
      roomId,
      { counts: new Array<number>(RATE_BUCKETS).fill(0), oldestAgeSeconds: 0, oldestCount: 0 },
    ]),
  );
  for (const row of rows) {
    const room = windows.get(row.room_id);
    if (!room || row.bucket < 0) continue;
    room.counts[row.bucket] = (room.counts[row.bucket] ?? 0) + row.admitted;
    room.oldestAgeSeconds = row.oldest_age;
    room.oldestCount += row.oldest_count;
  }
  return steadyRates(windows, windowSeconds);
}

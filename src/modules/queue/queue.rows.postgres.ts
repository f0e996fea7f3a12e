import { sql } from 'drizzle-orm';
import type { TokenStatus } from './queue.rules.js';
import type { TokenRecord } from './queue.store.js';

/** A queue_tokens row as the statements of the postgres waiting room read it. */
export interface TokenRow {
  id: number;
  token: string;
  user_id: number;
  room_id: number;
  status: TokenStatus;
  active_until: Date | null;
  expires_at: Date | null;
  hold_concert_id: number | null;
  last_seen_at: Date;
  now: Date;
}

export const tokenColumns = sql`id, arrival, room_id, token, user_id, status, active_until, expires_at, hold_concert_id, last_seen_at`;

/**
 * The exact place in line of the WAITING token `me`, in O(log n): arrivals are gapless, everyone
 * admitted arrived before the head (admission is first come first served), so the place is the
 * distance from the head less the numbers in between that left the line or were never used.
 */
export const positionOf = sql`CASE WHEN me.status = 'WAITING' THEN
    me.arrival - head.arrival + 1
    - (SELECT count(*) FROM queue_tokens d WHERE d.status = 'EXPIRED' AND d.activated_at IS NULL
        AND d.room_id = me.room_id AND d.arrival > head.arrival AND d.arrival < me.arrival)
    - (SELECT count(*) FROM queue_skipped_arrivals k
        WHERE k.room_id = me.room_id AND k.arrival > head.arrival AND k.arrival < me.arrival)
  ELSE 0 END`;

/**
 * The head of the line of the room of `me` (every row of `me` is of one room): one row, read once
 * by one index probe. Spelled as ORDER BY … LIMIT 1 and materialized so that it never depends on
 * the planner's statistics: as min() over a room the statistics do not know yet (a new room, a
 * fresh table), the planner aggregated the whole line again for every row of `me`.
 */
export const lineHead = sql`head AS MATERIALIZED (SELECT (SELECT arrival FROM queue_tokens
  WHERE status = 'WAITING' AND room_id = (SELECT room_id FROM me LIMIT 1)
  ORDER BY arrival LIMIT 1) AS arrival)`;

export function toRecord(row: TokenRow): TokenRecord {
  return {
    token: row.token,
    userId: row.user_id,
    roomId: row.room_id,
    now: row.now,
    state: {
      status: row.status,
      activeUntil: row.active_until,
      expiresAt: row.expires_at,
      holdConcertId: row.hold_concert_id,
      lastSeenAt: row.last_seen_at,
    },
  };
}

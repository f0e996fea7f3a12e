import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { queryOne } from '../../db/sql.js';
import type { TokenRecord } from './queue.store.js';

/**
 * Whether the token may book seats of `concertId` at all (docs/rooms.md): a room's token only
 * its room's concert; a house-room token only a concert without a room of its own — read inside
 * the booking transaction, so the database decides (one primary-key probe, house tokens only).
 */
export async function inWrongRoom(
  tx: Executor,
  record: Pick<TokenRecord, 'roomId'>,
  concertId: number,
): Promise<boolean> {
  if (record.roomId !== 0) return record.roomId !== concertId;
  const room = await queryOne<{ found: number }>(
    tx,
    sql`SELECT 1 AS found FROM rooms WHERE concert_id = ${concertId}`,
    { prepared: true },
  );
  return room !== undefined;
}

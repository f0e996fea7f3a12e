import DataLoader from 'dataloader';
import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { query } from '../../db/sql.js';
import { newRoomToken } from '../../shared/ids.js';
import {
  lineHead,
  positionOf,
  tokenColumns,
  toRecord,
  type TokenRow,
} from './queue.rows.postgres.js';
import { tokenView, type TokenView } from './queue.store.js';

/** Joins written by one statement at most. */
const JOIN_BATCH_MAX = 500;

/**
 * Joins the line, many users in one statement: the next arrival numbers in the order the
 * joins came (the counter row stays locked until the statement commits); a user who turned
 * out to have a live token after all (a concurrent join of theirs) gets none, and a number
 * taken by a conflict is recorded as skipped, so positions stay exact. Also a pre-queue's move
 * into the line (QueueStore.joinMany): `userIds` in place order, each with its chosen token.
 */
export async function joinBatch(
  db: Executor,
  roomId: number,
  userIds: number[],
  chosen: Map<number, string>,
): Promise<void> {
  const wanted = userIds.map((userId, ord) => ({
    ord,
    user_id: userId,
    token: chosen.get(userId) ?? newRoomToken(roomId),
  }));
  await query(
    db,
    sql`WITH wanted AS (
          SELECT * FROM jsonb_to_recordset(${JSON.stringify(wanted)}::jsonb) AS w(ord int, user_id bigint, token text)),
        fresh AS (
          SELECT ord, user_id, token, row_number() OVER (ORDER BY ord) AS n FROM wanted
          -- Both checks are one index probe per wanted row (OFFSET 0 keeps each a subplan of its
          -- row), whatever the plan: as anti joins, a plan made while the table had no statistics
          -- (or a generic plan made while the line looked empty) scanned the room's whole line
          -- for every row, so batches slowed as the line grew (O(n²) for n joins; issue 15's
          -- opening move and issue 17's new-user joins).
          WHERE NOT EXISTS (
            SELECT 1 FROM queue_tokens q WHERE q.room_id = ${roomId} AND q.user_id = wanted.user_id
              AND q.status IN ('WAITING', 'ACTIVE') OFFSET 0)
            -- A chosen token the line already knows (moved before, maybe expired since): never revived.
            AND NOT EXISTS (SELECT 1 FROM queue_tokens q WHERE q.token = wanted.token OFFSET 0)),
        counter AS (
          INSERT INTO queue_counter AS c (id, last_arrival)
          SELECT ${roomId + 1}, count(*) FROM fresh HAVING count(*) > 0
          ON CONFLICT (id) DO UPDATE SET last_arrival = c.last_arrival + excluded.last_arrival
          RETURNING last_arrival - (SELECT count(*) FROM fresh) AS before),
        numbered AS (SELECT fresh.user_id, fresh.token, counter.before + fresh.n AS arrival FROM fresh, counter),
        joined AS (
          INSERT INTO queue_tokens (token, room_id, user_id, status, arrival)
          SELECT token, ${roomId}, user_id, 'WAITING', arrival FROM numbered
          ON CONFLICT (room_id, user_id) WHERE status IN ('WAITING', 'ACTIVE') DO NOTHING
          RETURNING arrival)
      INSERT INTO queue_skipped_arrivals (room_id, arrival)
      SELECT ${roomId}, arrival FROM numbered WHERE arrival NOT IN (SELECT arrival FROM joined)`,
    { prepared: true },
  );
}

/** The live tokens of `userIds` with their exact positions, in one statement. */
async function readLive(
  db: Executor,
  roomId: number,
  userIds: number[],
  idleMs: number,
): Promise<Map<number, TokenView>> {
  const rows = await query<TokenRow & { position: number }>(
    db,
    // One index probe per user (the LATERAL subquery is kept apart by OFFSET 0, whatever the
    // statistics say about the room), never a scan of the room's line.
    sql`WITH me AS (
          SELECT t.* FROM jsonb_array_elements_text(${JSON.stringify(userIds)}::jsonb) AS u(value),
            LATERAL (SELECT ${tokenColumns} FROM queue_tokens
              WHERE room_id = ${roomId} AND user_id = u.value::bigint AND status IN ('WAITING', 'ACTIVE')
              OFFSET 0) t),
        ${lineHead}
      SELECT me.id, me.room_id, me.token, me.user_id, me.status, me.active_until, me.expires_at, me.hold_concert_id,
        me.last_seen_at, ${positionOf} AS position, now() AS now
      FROM me, head`,
    { prepared: true },
  );
  return new Map(rows.map((row) => [row.user_id, tokenView(toRecord(row), row.position, idleMs)]));
}

/**
 * Joins the line in batches (group commit): joins that arrive while a batch is being written go
 * together in the next one, so the counter row changes hands once per batch instead of once per
 * join, and one read (a fresh snapshot, which sees every arrival before them) answers the whole
 * batch. Batches write one after another, so a later batch sees every earlier one committed.
 * A join answers with the user's live token, or null when it was expired before the read.
 *
 * `db` is the database's batch connections (Database.batches), not the request pool: a batch's
 * write and read never queue behind the pre-reads of the very joins waiting for it.
 */
export function createJoinBatcher(
  db: Executor,
  roomId: number,
  options: { idleMs: number },
): (userId: number, token?: string) => Promise<TokenView | null> {
  // Tokens chosen before the join (a pre-queue entry's, queue.opening.ts), by user.
  const chosen = new Map<number, string>();
  let written: Promise<unknown> = Promise.resolve();
  let turn: Promise<void> = Promise.resolve();
  const joins = new DataLoader<number, TokenView | null>(
    (userIds) => {
      const unique = [...new Set(userIds)];
      const joined = joinBatch(db, roomId, unique, chosen);
      for (const userId of unique) chosen.delete(userId);
      written = joined.catch(() => undefined);
      return joined
        .then(() => readLive(db, roomId, unique, options.idleMs))
        .then((views) => userIds.map((userId) => views.get(userId) ?? null));
    },
    {
      cache: false,
      maxBatchSize: JOIN_BATCH_MAX,
      // A batch is sent when the one before it has written (the batch function sets `written`).
      batchScheduleFn: (dispatch) => {
        turn = turn.then(
          () =>
            new Promise<void>((resolve) =>
              setImmediate(() => {
                dispatch();
                void written.then(() => resolve());
              }),
            ),
        );
      },
    },
  );
  return (userId, token) => {
    if (token !== undefined) chosen.set(userId, token);
    return joins.load(userId);
  };
}

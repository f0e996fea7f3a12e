import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { query, queryOne } from '../../db/sql.js';
import { roomOfToken } from '../../shared/ids.js';
import { createJoinBatcher, joinBatch } from './queue.join.postgres.js';
import { roomRates } from './queue.rates.postgres.js';
import {
  lineHead,
  positionOf,
  tokenColumns,
  toRecord,
  type TokenRow,
} from './queue.rows.postgres.js';
import {
  DEFAULT_RATE_WINDOW_SECONDS,
  tokenView,
  type AdmissionResult,
  type QueueStore,
  type TokenView,
} from './queue.store.js';

/**
 * Admission lock: admission runs of all instances take turns. (Joins need no lock: arrival
 * numbers come from queue_counter in commit order, so admission never sees a later arrival while
 * an earlier one is still being written.)
 */
const ADMISSION_LOCK = 7_284_113_003;

export interface PostgresQueueOptions {
  maxActive: number;
  activeTtlSeconds: number;
  idleSeconds: number;
  /** Window of the measured admission rate (default DEFAULT_RATE_WINDOW_SECONDS). */
  rateWindowSeconds?: number;
}

export function createPostgresQueueStore(
  database: Database,
  options: PostgresQueueOptions,
): QueueStore {
  const db = database;
  const idleMs = options.idleSeconds * 1000;
  // A poll rewrites last_seen_at at most this often: the idle deadline moves in small steps
  // instead of one write per poll.
  const touchEveryMs = Math.min(Math.ceil(idleMs / 10), 10_000);
  const activeTtl = `${options.activeTtlSeconds} seconds`;
  const idle = `${options.idleSeconds} seconds`;
  const rateWindowSeconds = options.rateWindowSeconds ?? DEFAULT_RATE_WINDOW_SECONDS;
  const rateWindow = `${rateWindowSeconds} seconds`;

  /** Reads a token with its exact position, touching last_seen_at of a live WAITING token. */
  async function readWithPosition(where: ReturnType<typeof sql>): Promise<TokenView | null> {
    const row = await queryOne<TokenRow & { position: number }>(
      db,
      sql`WITH me AS (SELECT ${tokenColumns} FROM queue_tokens WHERE ${where}),
        touched AS (
          UPDATE queue_tokens q SET last_seen_at = now() FROM me
          WHERE q.id = me.id AND me.status = 'WAITING'
            AND me.last_seen_at < now() - ${`${touchEveryMs} milliseconds`}::interval
            AND me.last_seen_at > now() - ${idle}::interval
          RETURNING q.last_seen_at),
        ${lineHead}
      SELECT me.id, me.room_id, me.token, me.user_id, me.status, me.active_until, me.expires_at, me.hold_concert_id,
        coalesce((SELECT last_seen_at FROM touched), me.last_seen_at) AS last_seen_at,
        ${positionOf} AS position,
        now() AS now
      FROM me, head`,
      { prepared: true },
    );
    return row ? tokenView(toRecord(row), row.position, idleMs) : null;
  }

  // One batcher per room a join came to on this instance (each a DataLoader, no timer), writing
  // and reading on the batch connections: a batch never waits in the pool's queue.
  const batchers = new Map<number, (userId: number, token?: string) => Promise<TokenView | null>>();
  const joinInBatch = (roomId: number, userId: number, token?: string) => {
    let batcher = batchers.get(roomId);
    if (!batcher) {
      batcher = createJoinBatcher(db.batches, roomId, { idleMs });
      batchers.set(roomId, batcher);
    }
    return batcher(userId, token);
  };

  return {
    async join(userId, room, token) {
      const roomId = room?.roomId ?? 0;
      const live = sql`room_id = ${roomId} AND user_id = ${userId} AND status IN ('WAITING', 'ACTIVE')`;
      for (let attempt = 0; attempt < 3; attempt++) {
        // Most joins at a sale are refreshes of a live token: one read answers them.
        let view = await readWithPosition(live);
        if (view === null) {
          view = await joinInBatch(roomId, userId, token);
          if (view === null) continue; // expired by the sweep between the two statements
        }
        if (view.status !== 'EXPIRED') return view;
        // Live in storage but past its time and not yet swept: retire it, then join afresh.
        await query(
          db,
          sql`UPDATE queue_tokens SET status = 'EXPIRED', expired_at = now()
              WHERE token = ${view.token} AND status IN ('WAITING', 'ACTIVE')`,
          { prepared: true },
        );
      }
      throw new Error(`could not settle a queue token for user ${userId}`);
    },

    // One statement for the batch, in its order (the counter row numbers the arrivals).
    joinMany: (room, entries) =>
      joinBatch(
        db,
        room.roomId,
        entries.map((entry) => entry.userId),
        new Map(entries.map((entry) => [entry.userId, entry.token])),
      ),

    poll: (token) => readWithPosition(sql`token = ${token}`),

    /**
     * One statement for any number of tokens: their rows, a touch of the live WAITING ones, their
     * exact positions from one ordered pass over the line up to the last of them (the partial
     * index of WAITING ids); beside it, each of their rooms' steady admission rate (roomRates).
     */
    async watch(tokens) {
      // Each room's own steady admission rate (the house room's always), read beside the tokens.
      const ratesOf = roomRates(
        db,
        [...new Set([0, ...tokens.map(roomOfToken)])],
        rateWindowSeconds,
      );
      // Rejections are awaited below; a failing token read must not leave this one unhandled.
      ratesOf.catch(() => undefined);
      // One row even for no tokens (the stats); a row's token columns are null without a token.
      const rows = await query<
        Omit<TokenRow, 'token'> & {
          token: string | null;
          position: number;
        }
      >(
        db,
        sql`WITH wanted AS (
              SELECT value AS token FROM jsonb_array_elements_text(${JSON.stringify(tokens)}::jsonb)),
            me AS (SELECT ${tokenColumns} FROM queue_tokens WHERE token IN (SELECT token FROM wanted)),
            touched AS (
              UPDATE queue_tokens q SET last_seen_at = now() FROM me
              WHERE q.id = me.id AND me.status = 'WAITING'
                AND me.last_seen_at < now() - ${`${touchEveryMs} milliseconds`}::interval
                AND me.last_seen_at > now() - ${idle}::interval
              RETURNING q.id, q.last_seen_at),
            upto AS (SELECT room_id, max(arrival) AS arrival FROM me WHERE status = 'WAITING' GROUP BY room_id),
            line AS (
              SELECT q.id, row_number() OVER (PARTITION BY q.room_id ORDER BY q.arrival) AS position
              FROM queue_tokens q JOIN upto ON q.room_id = upto.room_id AND q.arrival <= upto.arrival
              WHERE q.status = 'WAITING'),
            stats AS (SELECT now() AS now)
          SELECT me.id, me.room_id, me.token, me.user_id, me.status, me.active_until, me.expires_at,
            me.hold_concert_id, coalesce(touched.last_seen_at, me.last_seen_at) AS last_seen_at,
            coalesce(line.position, 0) AS position, stats.now
          FROM stats LEFT JOIN me ON true
            LEFT JOIN touched ON touched.id = me.id LEFT JOIN line ON line.id = me.id`,
        { prepared: true },
      );
      const views = new Map<string, TokenView>();
      for (const row of rows) {
        if (row.token === null) continue;
        const view = tokenView(toRecord({ ...row, token: row.token }), row.position, idleMs);
        views.set(view.token, view);
      }
      const rates = await ratesOf;
      return { views, admissionRate: rates.get(0) ?? 0, rates };
    },

    async find(token) {
      const row = await queryOne<TokenRow>(
        db,
        sql`SELECT ${tokenColumns}, now() AS now FROM queue_tokens WHERE token = ${token}`,
        { prepared: true },
      );
      return row ? toRecord(row) : null;
    },

    async expire(token) {
      const rows = await query<{ id: number }>(
        db,
        sql`UPDATE queue_tokens SET status = 'EXPIRED', expired_at = now()
            WHERE token = ${token} AND status IN ('WAITING', 'ACTIVE') RETURNING id`,
        { prepared: true },
      );
      return rows.length > 0;
    },

    async admit(prepare) {
      // The flags are for the views only: the statement below checks the seats itself.
      await prepare?.();
      return db.transaction(async (tx) => {
        await query(tx, sql`SELECT pg_advisory_xact_lock(${ADMISSION_LOCK})`, { prepared: true });
        // expires_at already includes any extension by a live hold (set in the hold's transaction).
        const expiredActive = await query<{ id: number }>(
          tx,
          sql`UPDATE queue_tokens SET status = 'EXPIRED', expired_at = now()
              WHERE status = 'ACTIVE' AND expires_at <= now() RETURNING id`,
          { prepared: true },
        );
        const expiredWaiting = await query<{ id: number }>(
          tx,
          sql`UPDATE queue_tokens SET status = 'EXPIRED', expired_at = now()
              WHERE status = 'WAITING' AND last_seen_at <= now() - ${idle}::interval RETURNING id`,
          { prepared: true },
        );
        // Fill each room's free slots from the head of its line, in arrival order, within its
        // cap, its state and its rate allowance (a token bucket kept in its row, under this
        // lock). Only rooms with someone waiting are read: a skip scan of the WAITING index.
        // The clock is the statement's (taken after the lock), not the transaction's: a run that
        // waited for the lock must not stamp its admissions earlier than the run before it.
        const admitted = await query<{ room_id: number; admitted: number }>(
          tx,
          sql`WITH RECURSIVE waiting_rooms AS (
                (SELECT room_id FROM queue_tokens WHERE status = 'WAITING' ORDER BY room_id LIMIT 1)
                UNION ALL
                SELECT (SELECT q.room_id FROM queue_tokens q
                        WHERE q.status = 'WAITING' AND q.room_id > w.room_id ORDER BY q.room_id LIMIT 1)
                FROM waiting_rooms w WHERE w.room_id IS NOT NULL),
              settings AS (
                SELECT w.room_id,
                  CASE WHEN w.room_id = 0 THEN ${options.maxActive} ELSE r.max_active END AS max_active,
                  CASE WHEN w.room_id = 0 THEN 'open' ELSE r.state END AS state,
                  -- Sold out (decision 0057): seats, and none without a sale; decided here, under
                  -- the lock, so the run after the last sale admits nobody.
                  w.room_id <> 0
                    AND EXISTS (SELECT 1 FROM seats x WHERE x.concert_id = w.room_id)
                    AND NOT EXISTS (SELECT 1 FROM seats x WHERE x.concert_id = w.room_id
                      AND NOT EXISTS (SELECT 1 FROM seat_holds h WHERE h.seat_id = x.id AND h.status = 'SOLD'))
                    AS sold_out,
                  CASE WHEN r.admission_per_minute IS NULL THEN NULL
                    ELSE least(greatest(1.0, r.admission_per_minute / 60.0),
                      r.allowance + extract(epoch FROM statement_timestamp() - r.allowance_at)
                        * r.admission_per_minute / 60.0) END AS allowance
                FROM waiting_rooms w LEFT JOIN rooms r ON r.concert_id = w.room_id
                WHERE w.room_id IS NOT NULL),
              quota AS (
                SELECT s.room_id, s.allowance,
                  CASE WHEN s.state = 'paused' OR s.sold_out OR s.max_active IS NULL THEN 0
                    ELSE greatest(0, least(
                      s.max_active - (SELECT count(*) FROM queue_tokens a WHERE a.room_id = s.room_id AND a.status = 'ACTIVE'),
                      coalesce(floor(s.allowance), 1000000)))::int END AS free
                FROM settings s),
              head AS (
                SELECT h.id FROM quota, LATERAL (
                  SELECT id FROM queue_tokens q WHERE q.room_id = quota.room_id AND q.status = 'WAITING'
                  ORDER BY q.arrival LIMIT quota.free) h),
              admitted AS (
                UPDATE queue_tokens q
                SET status = 'ACTIVE', activated_at = statement_timestamp(),
                    active_until = statement_timestamp() + ${activeTtl}::interval,
                    expires_at = statement_timestamp() + ${activeTtl}::interval
                FROM head WHERE q.id = head.id AND q.status = 'WAITING' RETURNING q.room_id),
              per_room AS (SELECT room_id, count(*)::int AS admitted FROM admitted GROUP BY room_id),
              spent AS (
                UPDATE rooms r SET allowance = quota.allowance - coalesce(per_room.admitted, 0),
                  allowance_at = statement_timestamp()
                FROM quota LEFT JOIN per_room ON per_room.room_id = quota.room_id
                WHERE r.concert_id = quota.room_id AND quota.allowance IS NOT NULL RETURNING 1)
            SELECT quota.room_id, coalesce(per_room.admitted, 0) AS admitted,
              (SELECT count(*) FROM spent)::int AS spent
            FROM quota LEFT JOIN per_room ON per_room.room_id = quota.room_id`,
          { prepared: true },
        );
        const [counts] = await query<{ active: number; waiting: number }>(
          tx,
          sql`SELECT (SELECT count(*)::int FROM queue_tokens WHERE room_id = 0 AND status = 'ACTIVE') AS active,
                     (SELECT count(*)::int FROM queue_tokens WHERE room_id = 0 AND status = 'WAITING') AS waiting`,
          { prepared: true },
        );
        const result: AdmissionResult = {
          expired: expiredActive.length + expiredWaiting.length,
          admitted: admitted.reduce((sum, row) => sum + row.admitted, 0),
          active: counts?.active ?? 0,
          waiting: counts?.waiting ?? 0,
        };
        return result;
      });
    },

    async roomStats(roomId) {
      const row = await queryOne<{ waiting: number; active: number; admitted: number }>(
        db,
        sql`SELECT
              (SELECT count(*)::int FROM queue_tokens WHERE room_id = ${roomId} AND status = 'WAITING') AS waiting,
              (SELECT count(*)::int FROM queue_tokens WHERE room_id = ${roomId} AND status = 'ACTIVE') AS active,
              (SELECT count(*)::int FROM queue_tokens WHERE room_id = ${roomId} AND status = 'ACTIVE'
                AND activated_at > now() - ${rateWindow}::interval)
              + (SELECT count(*)::int FROM queue_tokens WHERE room_id = ${roomId} AND status = 'EXPIRED'
                AND expired_at > now() - ${rateWindow}::interval
                AND activated_at > now() - ${rateWindow}::interval) AS admitted`,
        { prepared: true },
      );
      return {
        waiting: row?.waiting ?? 0,
        active: row?.active ?? 0,
        admissionRate: ((row?.admitted ?? 0) * 60) / rateWindowSeconds,
      };
    },
  };
}

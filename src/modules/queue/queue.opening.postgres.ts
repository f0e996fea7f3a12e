import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { query, queryOne, transaction } from '../../db/sql.js';
import { newRoomToken } from '../../shared/ids.js';
import { newReceiptId } from './queue.lottery.js';
import type { PreQueueEntry, PreQueueStore } from './queue.opening.store.js';

interface EntryRow {
  concert_id: number;
  user_id: number;
  token: string;
  receipt_id: string;
  place: number | null;
  moved_at: Date | null;
  opens_at: Date;
  opened_at: Date | null;
  rank: number;
}

/** The pre-queue join's statement: the room's state, and the entry when this statement made it. */
interface MadeRow extends Omit<EntryRow, 'token'> {
  transferred: boolean;
  /** Null when the user's entry already existed (or the room was transferred). */
  token: string | null;
}

const toEntry = (row: EntryRow): PreQueueEntry => ({
  roomId: row.concert_id,
  userId: row.user_id,
  token: row.token,
  receiptId: row.receipt_id,
  place: row.place,
  moved: row.moved_at !== null,
  opensAt: row.opens_at,
  opened: row.opened_at !== null,
  rank: row.rank,
});

/**
 * Line order of the pre-queue: drawn places first, then later arrivals (place null: NULLS LAST,
 * the default of ASC) by arrival. Spelled as the columns of pre_queue_to_move_idx, so the next
 * batch is read from the head of that index: an expression (COALESCE) sorted every entry still
 * to move for every batch (issue 15).
 */
const LINE_ORDER = sql`place ASC NULLS LAST, seq`;

/**
 * An entry with its room's opening and its provisional place (the count of entries ahead of it
 * in line order, plus one) without counting the pre-queue: places are 1..drawn, gapless (the
 * draw's row_number), so a drawn entry's rank is its place, and a later arrival's is the number
 * drawn (the greatest place: one probe of pre_queue_draw_idx) plus the later arrivals before it
 * (place null, counted by that index: only the arrivals since the draw). Before the draw no rank
 * is shown (0).
 */
const withRoom = (where: ReturnType<typeof sql>) => sql`
  SELECT p.concert_id, p.user_id, p.token, p.receipt_id, p.place, p.moved_at, r.opens_at, r.opened_at,
    CASE WHEN r.opened_at IS NULL THEN 0
      WHEN p.place IS NOT NULL THEN p.place
      ELSE (SELECT coalesce(max(d.place), 0) FROM pre_queue d WHERE d.concert_id = p.concert_id)
        + (SELECT count(*) FROM pre_queue b WHERE b.concert_id = p.concert_id AND b.place IS NULL
            AND b.seq < p.seq)::int + 1 END AS rank
  FROM pre_queue p JOIN rooms r ON r.concert_id = p.concert_id WHERE ${where}`;

/**
 * The pre-queue in PostgreSQL, whatever the queue backend (decision 0056). Exactly-once rests on
 * the room row: an entry is written only while holding it FOR SHARE with the room not yet
 * transferred; the draw takes it FOR UPDATE (setting opened_at once, `WHERE opened_at IS NULL`),
 * and the end of the transfer takes it FOR UPDATE before checking that nothing is left to move.
 * Order rests on it too: each read of the move takes it before reading the next batch.
 */
export function createPreQueueStore(database: Database): PreQueueStore {
  const db = database;
  const read = async (where: ReturnType<typeof sql>): Promise<PreQueueEntry | undefined> => {
    const row = await queryOne<EntryRow>(db, withRoom(where));
    return row ? toEntry(row) : undefined;
  };
  return {
    /**
     * The user's entry in the room's pre-queue, made now if there is none; undefined once the
     * room's pre-queue is all in the line (the join goes to the line itself).
     */
    async enter(roomId, userId) {
      for (let attempt = 0; attempt < 2; attempt++) {
        // The room row FOR SHARE: a draw or a transfer end waits for this entry (and this entry
        // for them), so an entry is either counted by the draw or after it, never lost.
        const row = await queryOne<MadeRow>(
          db,
          sql`WITH room AS (
                SELECT concert_id, opens_at, opened_at, transferred_at FROM rooms
                WHERE concert_id = ${roomId} FOR SHARE),
              made AS (
                INSERT INTO pre_queue (concert_id, user_id, receipt_id, token)
                SELECT concert_id, ${userId}, ${newReceiptId()}, ${newRoomToken(roomId)} FROM room
                WHERE transferred_at IS NULL
                ON CONFLICT (concert_id, user_id) DO NOTHING
                RETURNING concert_id, user_id, token, receipt_id, place, moved_at)
            SELECT r.transferred_at IS NOT NULL AS transferred, m.concert_id, m.user_id, m.token,
              m.receipt_id, m.place, m.moved_at, r.opens_at, r.opened_at, 0 AS rank
            FROM room r LEFT JOIN made m ON true`,
        );
        if (!row || row.transferred) return undefined;
        // Made now, before the draw: answered from this write (PRE_QUEUE: in the draw, no rank
        // yet, as withRoom shows it), not read back — a draw committing between a write and its
        // read-back used to answer it WAITING at its drawn place, so PRE_QUEUE no longer meant
        // "in the lottery". The next poll shows its place.
        if (row.token !== null && row.opened_at === null)
          return toEntry({ ...row, token: row.token });
        const entry = await read(sql`p.concert_id = ${roomId} AND p.user_id = ${userId}`);
        if (entry) return entry;
      }
      return undefined;
    },

    byToken: (token) => read(sql`p.token = ${token}`),

    /** The entries of these tokens in one statement (a live-positions tick's pre-queue tokens). */
    async byTokens(tokens) {
      if (tokens.length === 0) return [];
      // The tokens as one JSON parameter: any string a client sent is only ever compared.
      const rows = await query<EntryRow>(
        db,
        withRoom(
          sql`p.token IN (SELECT jsonb_array_elements_text(${JSON.stringify(tokens)}::jsonb))`,
        ),
      );
      return rows.map(toEntry);
    },

    /** Rooms whose opening is due and whose pre-queue is not all in the line (oldest first). */
    async due(limit: number): Promise<{ roomId: number; opened: boolean }[]> {
      const rows = await query<{ concert_id: number; opened: boolean }>(
        db,
        sql`SELECT concert_id, opened_at IS NOT NULL AS opened FROM rooms
            WHERE opens_at IS NOT NULL AND transferred_at IS NULL AND opens_at <= now()
            ORDER BY opens_at LIMIT ${limit}`,
        { prepared: true },
      );
      return rows.map((row) => ({ roomId: row.concert_id, opened: row.opened }));
    },

    /**
     * The draw, at most once per room: the one transaction that sets opened_at publishes the
     * seed and gives every entry its place, ascending SHA-256(seed ":" receiptId) — the order of
     * drawOrder in queue.lottery.ts, computed where the rows are. Returns how many were drawn,
     * or undefined when the room was not due or another instance drew it.
     */
    draw: (roomId: number): Promise<number | undefined> =>
      transaction(database, async (tx) => {
        const room = await queryOne<{ seed: string }>(
          tx,
          sql`UPDATE rooms SET opened_at = now(), updated_at = clock_timestamp()
              WHERE concert_id = ${roomId} AND opened_at IS NULL AND opens_at <= now()
                AND seed IS NOT NULL
              RETURNING seed`,
        );
        if (!room) return undefined;
        // A new statement (a new snapshot): every entry whose writer held the room row is in it.
        const drawn = await query<{ n: number }>(
          tx,
          sql`UPDATE pre_queue p SET place = d.place
              FROM (SELECT user_id, row_number() OVER (
                      ORDER BY sha256(convert_to(${room.seed} || ':' || receipt_id, 'UTF8')),
                        receipt_id COLLATE "C") AS place
                    FROM pre_queue WHERE concert_id = ${roomId}) d
              WHERE p.concert_id = ${roomId} AND p.user_id = d.user_id RETURNING 1 AS n`,
        );
        return drawn.length;
      }),

    /**
     * The next entries to enter the line, in line order. A later arrival's order is its seq, taken
     * when its row is written but seen only when its join commits, so two joins in flight can
     * commit in the other order: the read first takes the room row (FOR NO KEY UPDATE: it waits
     * for every join holding it FOR SHARE, and new joins wait for this read), so every seq taken
     * so far is committed and the batch is a prefix of the final order — the move never puts a
     * later arrival before an earlier one still in flight (test/concurrency/pre-queue-order).
     */
    toMove: (roomId: number, limit: number) =>
      transaction(database, async (tx) => {
        await query(tx, sql`SELECT 1 FROM rooms WHERE concert_id = ${roomId} FOR NO KEY UPDATE`);
        return query<{ user_id: number; token: string }>(
          tx,
          sql`SELECT user_id, token FROM pre_queue WHERE concert_id = ${roomId} AND moved_at IS NULL
              ORDER BY ${LINE_ORDER} LIMIT ${limit}`,
        );
      }),

    async moved(roomId: number, userIds: number[]): Promise<void> {
      await query(
        db,
        // Probes of the primary key (concert_id, user_id = ANY): with `moved_at IS NULL` in the
        // condition the planner read every entry still to move through the partial index.
        sql`UPDATE pre_queue SET moved_at = coalesce(moved_at, now()) WHERE concert_id = ${roomId}
              AND user_id = ANY (ARRAY(SELECT value::bigint FROM jsonb_array_elements_text(${JSON.stringify(userIds)}::jsonb)))`,
      );
    },

    /**
     * Ends the transfer if nothing is left to move: under the room row FOR UPDATE, so no entry
     * can be written meanwhile; the check is a new statement (it sees every entry committed).
     */
    finish: (roomId: number): Promise<boolean> =>
      transaction(database, async (tx) => {
        await query(tx, sql`SELECT 1 FROM rooms WHERE concert_id = ${roomId} FOR UPDATE`);
        const left = await queryOne<{ left: boolean }>(
          tx,
          sql`SELECT EXISTS (SELECT 1 FROM pre_queue WHERE concert_id = ${roomId} AND moved_at IS NULL) AS left`,
        );
        if (left?.left) return false;
        await query(
          tx,
          sql`UPDATE rooms SET transferred_at = now(), updated_at = clock_timestamp()
              WHERE concert_id = ${roomId} AND transferred_at IS NULL`,
        );
        return true;
      }),

    /** One page of the draw, and the room's lottery (undefined: no such room). */
    async drawPage(roomId: number, page: number, pageSize: number) {
      const room = await queryOne<{
        seed: string | null;
        commitment: string | null;
        total: number;
      }>(
        db,
        sql`SELECT CASE WHEN opened_at IS NULL THEN NULL ELSE seed END AS seed, commitment,
              (SELECT count(*) FROM pre_queue WHERE concert_id = ${roomId} AND place IS NOT NULL)::int AS total
            FROM rooms WHERE concert_id = ${roomId}`,
      );
      if (!room) return undefined;
      const receipts =
        room.seed === null
          ? []
          : await query<{ receipt_id: string }>(
              db,
              sql`SELECT receipt_id FROM pre_queue WHERE concert_id = ${roomId} AND place IS NOT NULL
                  ORDER BY place OFFSET ${(page - 1) * pageSize} LIMIT ${pageSize}`,
            );
      return {
        concertId: roomId,
        seed: room.seed,
        commitment: room.commitment,
        total: room.seed === null ? 0 : room.total,
        page,
        pageSize,
        receipts: receipts.map((row) => row.receipt_id),
      };
    },

    /** The room's lottery for its public view. */
    async lottery(roomId: number) {
      const row = await queryOne<{
        opens_at: Date | null;
        pre_queue_opens_at: Date | null;
        commitment: string | null;
        seed: string | null;
        opened_at: Date | null;
        pre_queue: number;
      }>(
        db,
        sql`SELECT opens_at, pre_queue_opens_at, commitment, opened_at,
              CASE WHEN opened_at IS NULL THEN NULL ELSE seed END AS seed,
              (SELECT count(*) FROM pre_queue WHERE concert_id = ${roomId} AND moved_at IS NULL)::int AS pre_queue
            FROM rooms WHERE concert_id = ${roomId}`,
      );
      return {
        opensAt: row?.opens_at?.toISOString() ?? null,
        preQueueOpensAt: row?.pre_queue_opens_at?.toISOString() ?? null,
        commitment: row?.commitment ?? null,
        seed: row?.seed ?? null,
        openedAt: row?.opened_at?.toISOString() ?? null,
        preQueue: row?.pre_queue ?? 0,
      };
    },
  };
}

import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { query, queryOne, transaction } from '../../db/sql.js';
import type { AuditLog } from '../audit/audit.store.js';
import { scheduleOpening, type OpeningColumns, type SeedMaker } from './rooms.opening.js';
import type { Room, RoomStore } from './rooms.store.js';

interface RoomRow {
  concert_id: number;
  max_active: number;
  admission_per_minute: number | null;
  state: Room['state'];
  pow_difficulty: number;
  created_at: Date;
  updated_at: Date;
  opens_at: Date | null;
  pre_queue_opens_at: Date | null;
  seed: string | null;
  commitment: string | null;
  opened_at: Date | null;
  transferred_at: Date | null;
}

const columns = sql`concert_id, max_active, admission_per_minute, state, pow_difficulty, created_at, updated_at,
  opens_at, pre_queue_opens_at, seed, commitment, opened_at, transferred_at`;

const iso = (at: Date | null) => at?.toISOString() ?? null;

const openingOf = (row: RoomRow | undefined): OpeningColumns => ({
  opensAt: row?.opens_at ?? null,
  preQueueOpensAt: row?.pre_queue_opens_at ?? null,
  seed: row?.seed ?? null,
  commitment: row?.commitment ?? null,
  openedAt: row?.opened_at ?? null,
});

const toRoom = (row: RoomRow): Room => ({
  roomId: row.concert_id,
  concertId: row.concert_id,
  maxActive: row.max_active,
  admissionPerMinute: row.admission_per_minute,
  state: row.state,
  powDifficulty: row.pow_difficulty,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
  opensAt: iso(row.opens_at),
  preQueueOpensAt: iso(row.pre_queue_opens_at),
  commitment: row.commitment,
  // Secret until the opening.
  seed: row.opened_at === null ? null : row.seed,
  openedAt: iso(row.opened_at),
  transferredAt: iso(row.transferred_at),
  opening:
    row.opens_at === null
      ? null
      : {
          opensAt: row.opens_at.toISOString(),
          preQueueOpensAt: iso(row.pre_queue_opens_at),
          transferred: row.transferred_at !== null,
        },
});

/** What the audit log keeps of a room: its settings. */
const auditView = (room: Room) => ({
  concertId: room.concertId,
  maxActive: room.maxActive,
  admissionPerMinute: room.admissionPerMinute,
  state: room.state,
  powDifficulty: room.powDifficulty,
  opensAt: room.opensAt,
  preQueueOpensAt: room.preQueueOpensAt,
  commitment: room.commitment,
});

const now = async (tx: Parameters<typeof queryOne>[0]): Promise<Date> =>
  (await queryOne<{ now: Date }>(tx, sql`SELECT now() AS now`))?.now ?? new Date();

export function createPostgresRoomStore(
  database: Database,
  deps: { audit: Pick<AuditLog, 'appendIn'>; lottery: SeedMaker },
): RoomStore {
  const db = database;
  const seatsLeftOf = async (concertIds: readonly number[]): Promise<Map<number, number>> => {
    const rows = await query<{ concert_id: number; left: number }>(
      db,
      sql`SELECT c.id AS concert_id,
            ((SELECT count(*) FROM seats WHERE concert_id = c.id)
            - (SELECT count(*) FROM seat_holds h JOIN seats s ON s.id = h.seat_id
               WHERE s.concert_id = c.id AND h.status = 'SOLD'))::int AS left
          FROM (SELECT value::int AS id FROM jsonb_array_elements_text(${JSON.stringify(concertIds)}::jsonb)) c`,
      { prepared: true },
    );
    return new Map(rows.map((row) => [row.concert_id, row.left]));
  };

  return {
    create: (room, context) =>
      transaction(database, async (tx) => {
        const concert = await queryOne<{ id: number }>(
          tx,
          sql`SELECT id FROM concerts WHERE id = ${room.concertId} FOR SHARE`,
        );
        if (!concert) return 'CONCERT_NOT_FOUND' as const;
        const opening = scheduleOpening(openingOf(undefined), room, await now(tx), deps.lottery);
        if (typeof opening === 'string') return opening;
        const row = await queryOne<RoomRow>(
          tx,
          sql`INSERT INTO rooms (concert_id, max_active, admission_per_minute, state, pow_difficulty,
                opens_at, pre_queue_opens_at, seed, commitment)
              VALUES (${room.concertId}, ${room.maxActive}, ${room.admissionPerMinute ?? null}, ${room.state ?? 'open'},
                ${room.powDifficulty ?? 0}, ${iso(opening.opensAt)}::timestamptz, ${iso(opening.preQueueOpensAt)}::timestamptz,
                ${opening.seed}, ${opening.commitment})
              ON CONFLICT (concert_id) DO NOTHING RETURNING ${columns}`,
        );
        if (!row) return 'ROOM_EXISTS' as const;
        // The room's arrival counter (the house room's is row 1: room id + 1).
        await query(
          tx,
          sql`INSERT INTO queue_counter (id, last_arrival) VALUES (${room.concertId + 1}, 0)
              ON CONFLICT (id) DO NOTHING`,
        );
        const created = toRoom(row);
        await deps.audit.appendIn(tx, {
          ...context,
          action: 'room.create',
          outcome: 'SUCCESS',
          code: null,
          targetType: 'room',
          targetId: String(room.concertId),
          before: null,
          after: auditView(created),
        });
        return created;
      }),

    async get(concertId) {
      const row = await queryOne<RoomRow>(
        db,
        sql`SELECT ${columns} FROM rooms WHERE concert_id = ${concertId}`,
      );
      return row ? toRoom(row) : null;
    },

    update: (concertId, change, context) =>
      transaction(database, async (tx) => {
        const old = await queryOne<RoomRow>(
          tx,
          sql`SELECT ${columns} FROM rooms WHERE concert_id = ${concertId} FOR UPDATE`,
        );
        if (!old) return 'ROOM_NOT_FOUND' as const;
        const opening = scheduleOpening(openingOf(old), change, await now(tx), deps.lottery);
        if (typeof opening === 'string') return opening;
        const rate = change.admissionPerMinute;
        // clock_timestamp(): a reader that read before this commit still sees the change next
        // time (it reads with an overlap; rooms.service.ts).
        const row = await queryOne<RoomRow>(
          tx,
          sql`UPDATE rooms SET
                max_active = ${change.maxActive ?? old.max_active},
                admission_per_minute = ${rate === undefined ? old.admission_per_minute : rate},
                state = ${change.state ?? old.state},
                pow_difficulty = ${change.powDifficulty ?? old.pow_difficulty},
                opens_at = ${iso(opening.opensAt)}::timestamptz,
                pre_queue_opens_at = ${iso(opening.preQueueOpensAt)}::timestamptz,
                seed = ${opening.seed}, commitment = ${opening.commitment},
                allowance = CASE WHEN ${rate === undefined} THEN allowance ELSE 1 END,
                allowance_at = CASE WHEN ${rate === undefined} THEN allowance_at ELSE now() END,
                updated_at = clock_timestamp()
              WHERE concert_id = ${concertId} RETURNING ${columns}`,
        );
        if (!row) throw new Error(`room ${concertId} vanished under its lock`);
        const updated = toRoom(row);
        await deps.audit.appendIn(tx, {
          ...context,
          action: 'room.update',
          outcome: 'SUCCESS',
          code: null,
          targetType: 'room',
          targetId: String(concertId),
          before: auditView(toRoom(old)),
          after: auditView(updated),
        });
        return updated;
      }),

    async changedSince(since) {
      // One row even when nothing changed: the clock, with null room columns.
      const rows = await query<
        Omit<RoomRow, 'concert_id'> & { concert_id: number | null; now: Date }
      >(
        db,
        sql`SELECT n.now, r.concert_id, r.max_active, r.admission_per_minute, r.state, r.pow_difficulty, r.created_at, r.updated_at,
              r.opens_at, r.pre_queue_opens_at, r.seed, r.commitment, r.opened_at, r.transferred_at
            FROM (SELECT clock_timestamp() AS now) n LEFT JOIN rooms r
              ON ${since === null ? sql`true` : sql`r.updated_at > ${since.toISOString()}::timestamptz`}`,
        { prepared: true },
      );
      const rooms: Room[] = [];
      for (const row of rows)
        if (row.concert_id !== null) rooms.push(toRoom({ ...row, concert_id: row.concert_id }));
      return { rooms, now: rows[0]?.now ?? new Date() };
    },

    async soldOutRooms() {
      // Sold out: a seat, and no seat without a sale. The anti-join stops at the first unsold
      // seat (by the seat_holds key), so a room on sale costs a probe or a few; only a sold-out
      // concert is read through (the flag must be exact then).
      const rows = await query<{ concert_id: number }>(
        db,
        sql`SELECT r.concert_id FROM rooms r
            WHERE EXISTS (SELECT 1 FROM seats s WHERE s.concert_id = r.concert_id)
              AND NOT EXISTS (SELECT 1 FROM seats s WHERE s.concert_id = r.concert_id
                AND NOT EXISTS (SELECT 1 FROM seat_holds h WHERE h.seat_id = s.id AND h.status = 'SOLD'))`,
        { prepared: true },
      );
      return rows.map((row) => row.concert_id);
    },

    async seatsLeft(concertId) {
      return (await seatsLeftOf([concertId])).get(concertId) ?? 0;
    },

    seatsLeftOf,
  };
}

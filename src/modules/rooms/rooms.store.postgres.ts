import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { query, queryOne, transaction } from '../../db/sql.js';
import type { AuditLog } from '../audit/audit.store.js';
import type { Room, RoomStore } from './rooms.store.js';

interface RoomRow {
  concert_id: number;
  max_active: number;
  admission_per_minute: number | null;
  state: Room['state'];
  created_at: Date;
  updated_at: Date;
}

const columns = sql`concert_id, max_active, admission_per_minute, state, created_at, updated_at`;

const toRoom = (row: RoomRow): Room => ({
  roomId: row.concert_id,
  concertId: row.concert_id,
  maxActive: row.max_active,
  admissionPerMinute: row.admission_per_minute,
  state: row.state,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** What the audit log keeps of a room: its settings. */
const auditView = (room: Room) => ({
  concertId: room.concertId,
  maxActive: room.maxActive,
  admissionPerMinute: room.admissionPerMinute,
  state: room.state,
});

export function createPostgresRoomStore(
  database: Database,
  deps: { audit: Pick<AuditLog, 'appendIn'> },
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
        const row = await queryOne<RoomRow>(
          tx,
          sql`INSERT INTO rooms (concert_id, max_active, admission_per_minute, state)
              VALUES (${room.concertId}, ${room.maxActive}, ${room.admissionPerMinute ?? null}, ${room.state ?? 'open'})
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
        const rate = change.admissionPerMinute;
        // clock_timestamp(): a reader that read before this commit still sees the change next
        // time (it reads with an overlap; rooms.service.ts).
        const row = await queryOne<RoomRow>(
          tx,
          sql`UPDATE rooms SET
                max_active = ${change.maxActive ?? old.max_active},
                admission_per_minute = ${rate === undefined ? old.admission_per_minute : rate},
                state = ${change.state ?? old.state},
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
        sql`SELECT n.now, r.concert_id, r.max_active, r.admission_per_minute, r.state, r.created_at, r.updated_at
            FROM (SELECT clock_timestamp() AS now) n LEFT JOIN rooms r
              ON ${since === null ? sql`true` : sql`r.updated_at > ${since.toISOString()}::timestamptz`}`,
        { prepared: true },
      );
      const rooms: Room[] = [];
      for (const row of rows)
        if (row.concert_id !== null) rooms.push(toRoom({ ...row, concert_id: row.concert_id }));
      return { rooms, now: rows[0]?.now ?? new Date() };
    },

    async seatsLeft(concertId) {
      return (await seatsLeftOf([concertId])).get(concertId) ?? 0;
    },

    seatsLeftOf,
  };
}

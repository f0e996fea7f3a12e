import { sql } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { query, queryOne, transaction } from '../../db/sql.js';
import { refusable } from '../../shared/outcome.js';
import type { AuditLog } from '../audit/audit.store.js';
import { sectionKeys } from '../../shared/section-keys.js';
import type { MapSection } from './venues.rules.js';
import type { VenueDetail, VenueRefusal, VenueStore, VenueSummary } from './venues.store.js';

type Time = Date | string;

interface SummaryRow {
  id: number;
  name: string;
  address: string;
  in_use: boolean;
  created_at: Time;
  updated_at: Time;
  sections: {
    name: string;
    kind: MapSection['kind'];
    capacity: number;
    row_count: number;
  }[];
}

/** A venue's summary: its sections with their capacities and row counts, and whether it is in use. */
const summaries = (where: ReturnType<typeof sql>) => sql`
  SELECT v.id, v.name, v.address, v.created_at, v.updated_at,
         EXISTS (SELECT 1 FROM concerts c WHERE c.venue_id = v.id) AS in_use,
         coalesce((SELECT jsonb_agg(jsonb_build_object(
                    'name', s.name, 'kind', s.kind, 'capacity', s.capacity,
                    'row_count', (SELECT count(DISTINCT row_name) FROM venue_seats WHERE section_id = s.id))
                    ORDER BY s.position)
                   FROM venue_sections s WHERE s.venue_id = v.id), '[]'::jsonb) AS sections
  FROM venues v WHERE ${where}`;

function toSummary(row: SummaryRow): VenueSummary {
  const keys = sectionKeys(row.sections.map((section) => section.name));
  const sections = row.sections.map((section, i) => ({
    key: keys[i] ?? String(i),
    name: section.name,
    kind: section.kind,
    capacity: section.capacity,
    rowCount: section.row_count,
  }));
  let seatCount = 0;
  let capacity = 0;
  for (const section of sections) {
    capacity += section.capacity;
    if (section.kind === 'seated') seatCount += section.capacity;
  }
  return {
    venueId: row.id,
    name: row.name,
    address: row.address,
    seatCount,
    capacity,
    inUse: row.in_use,
    sections,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/**
 * Writes a venue's map: its sections and all their seats in one statement, the seats passed as
 * one JSON array (a 100,000-seat map is one parameter, not 400,000).
 */
async function insertMap(tx: Executor, venueId: number, sections: MapSection[]): Promise<void> {
  const sectionRows = sections.map((section, position) => ({
    position,
    name: section.name,
    kind: section.kind,
    capacity: section.capacity,
  }));
  const seats: [number, number, string, string][] = [];
  sections.forEach((section, s) => {
    let position = 0;
    for (const row of section.rows)
      for (const label of row.labels) seats.push([s, position++, row.name, label]);
  });
  await query(
    tx,
    sql`WITH section AS (
          INSERT INTO venue_sections (venue_id, position, name, kind, capacity)
          SELECT ${venueId}, x.position, x.name, x.kind, x.capacity
          FROM jsonb_to_recordset(${JSON.stringify(sectionRows)}::jsonb)
               AS x(position int, name text, kind text, capacity int)
          RETURNING id, position)
        INSERT INTO venue_seats (section_id, position, row_name, label)
        SELECT section.id, (e->>1)::int, e->>2, e->>3
        FROM jsonb_array_elements(${JSON.stringify(seats)}::jsonb) e
        JOIN section ON section.position = (e->>0)::int`,
  );
}

interface SeatRow {
  section: number;
  row_name: string;
  label: string;
}

/** Adds a seat to its row; row names are unique in a section and its seats come row by row. */
function appendSeat(rows: MapSection['rows'], seat: SeatRow): void {
  const last = rows.at(-1);
  if (last?.name === seat.row_name) last.labels.push(seat.label);
  else rows.push({ name: seat.row_name, labels: [seat.label] });
}

const summaryOf = async (tx: Executor, venueId: number): Promise<VenueSummary | undefined> => {
  const row = await queryOne<SummaryRow>(tx, summaries(sql`v.id = ${venueId}`));
  return row && toSummary(row);
};

/** What the audit log keeps of a venue: its summary without the seat labels. */
const auditView = (venue: VenueSummary) => ({
  name: venue.name,
  address: venue.address,
  seatCount: venue.seatCount,
  capacity: venue.capacity,
  sections: venue.sections,
});

export function createPostgresVenueStore(
  database: Database,
  deps: { audit: Pick<AuditLog, 'appendIn'> },
): VenueStore {
  const db = database;
  return {
    create: (venue, context) =>
      transaction(database, async (tx) => {
        const row = await queryOne<{ id: number }>(
          tx,
          sql`INSERT INTO venues (name, address) VALUES (${venue.name}, ${venue.address}) RETURNING id`,
        );
        if (!row) throw new Error('INSERT … RETURNING returned no row');
        const venueId = row.id;
        await insertMap(tx, venueId, venue.sections);
        const created = await summaryOf(tx, venueId);
        if (!created) throw new Error(`venue ${venueId} vanished in its own transaction`);
        await deps.audit.appendIn(tx, {
          ...context,
          action: 'venue.create',
          outcome: 'SUCCESS',
          code: null,
          targetType: 'venue',
          targetId: String(venueId),
          before: null,
          after: auditView(created),
        });
        return created;
      }),

    async list({ limit, before }) {
      const rows = await query<SummaryRow>(
        db,
        sql`${summaries(before === undefined ? sql`true` : sql`v.id < ${before}`)}
            ORDER BY v.id DESC LIMIT ${limit}`,
      );
      return rows.map(toSummary);
    },

    async get(venueId) {
      const row = await queryOne<SummaryRow>(db, summaries(sql`v.id = ${venueId}`));
      if (!row) return null;
      const seats = await query<SeatRow>(
        db,
        sql`SELECT s.position AS section, e.row_name, e.label
            FROM venue_sections s JOIN venue_seats e ON e.section_id = s.id
            WHERE s.venue_id = ${venueId} ORDER BY s.position, e.position`,
      );
      const summary = toSummary(row);
      const sections: VenueDetail['sections'] = summary.sections.map((section) => ({
        key: section.key,
        name: section.name,
        kind: section.kind,
        capacity: section.capacity,
        rows: [],
      }));
      for (const seat of seats) {
        const rows = sections[seat.section]?.rows;
        if (rows) appendSeat(rows, seat);
      }
      return { ...summary, sections };
    },

    summary: (venueId) => summaryOf(db, venueId).then((summary) => summary ?? null),

    async sectionRows(venueId, position) {
      const seats = await query<SeatRow>(
        db,
        sql`SELECT s.position AS section, e.row_name, e.label
            FROM venue_sections s JOIN venue_seats e ON e.section_id = s.id
            WHERE s.venue_id = ${venueId} AND s.position = ${position} ORDER BY e.position`,
      );
      const rows: MapSection['rows'] = [];
      for (const seat of seats) appendSeat(rows, seat);
      return rows;
    },

    update: (venueId, change, context) =>
      refusable<VenueSummary, VenueRefusal>((refuse) =>
        transaction(database, async (tx) => {
          // The venue row locked: a concert taking the venue (its foreign key locks the row too)
          // waits for this change, or this change sees the concert.
          const locked = await queryOne(
            tx,
            sql`SELECT 1 FROM venues WHERE id = ${venueId} FOR UPDATE`,
          );
          if (!locked) refuse('VENUE_NOT_FOUND');
          const before = await summaryOf(tx, venueId);
          if (!before) return refuse('VENUE_NOT_FOUND');
          if (change.sections) {
            if (before.inUse) refuse('VENUE_IN_USE');
            await query(tx, sql`DELETE FROM venue_sections WHERE venue_id = ${venueId}`);
            await insertMap(tx, venueId, change.sections);
          }
          await query(
            tx,
            sql`UPDATE venues SET name = coalesce(${change.name ?? null}, name),
                  address = coalesce(${change.address ?? null}, address), updated_at = now()
                WHERE id = ${venueId}`,
          );
          const after = await summaryOf(tx, venueId);
          if (!after) throw new Error(`venue ${venueId} vanished in its own transaction`);
          await deps.audit.appendIn(tx, {
            ...context,
            action: 'venue.update',
            outcome: 'SUCCESS',
            code: null,
            targetType: 'venue',
            targetId: String(venueId),
            before: auditView(before),
            after: auditView(after),
          });
          return after;
        }),
      ),
  };
}
